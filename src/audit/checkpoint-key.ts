/** Keys for signed checkpoints: ES256 or EdDSA, read from a PEM or JWK file, and the JWS they make. */

import { createPrivateKey, createPublicKey, type JsonWebKeyInput, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { CompactSign, compactVerify } from "jose";
import { SignalboxError } from "../errors/signalbox-error.js";

export type CheckpointAlg = "ES256" | "EdDSA";

export interface CheckpointSigner {
  readonly alg: CheckpointAlg;
  readonly key: KeyObject;
  /** Key id written into the JWS header, so a verifier can pick the key. */
  readonly kid?: string;
}

/** What a signed checkpoint vouches for. */
export interface CheckpointClaim {
  readonly writer_id: string;
  readonly head_seq: number;
  readonly head_hash: string;
  readonly count: number;
  readonly time: string;
}

function algOf(key: KeyObject, file: string): CheckpointAlg {
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  throw new SignalboxError(
    "CONFIG_INVALID",
    `checkpoint key "${file}" is ${key.asymmetricKeyType ?? "not an asymmetric key"}; use an ES256 (P-256) or Ed25519 key`,
  );
}

function keyInput(text: string): string | JsonWebKeyInput {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) return { key: JSON.parse(trimmed) as JsonWebKeyInput["key"], format: "jwk" };
  return trimmed;
}

function readKey<T>(file: string, make: (text: string) => T, what: string): T {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new SignalboxError("CONFIG_INVALID", `cannot read checkpoint ${what} "${file}"`, { cause: err });
  }
  try {
    return make(text);
  } catch (err) {
    if (err instanceof SignalboxError) throw err;
    throw new SignalboxError("CONFIG_INVALID", `checkpoint ${what} "${file}" is not a PEM or JWK ${what}`, {
      cause: err,
    });
  }
}

/** Reads a private key (PKCS#8/SEC1 PEM or private JWK) for signing checkpoints. */
export function loadCheckpointSigner(file: string): CheckpointSigner {
  return readKey(
    file,
    (text) => {
      const key = createPrivateKey(keyInput(text));
      return { alg: algOf(key, file), key };
    },
    "private key",
  );
}

/** Reads a public key (SPKI PEM or JWK; a private key file works too) for verifying checkpoints. */
export function loadCheckpointPublicKey(file: string): KeyObject {
  return readKey(
    file,
    (text) => {
      const key = createPublicKey(keyInput(text));
      algOf(key, file);
      return key;
    },
    "public key",
  );
}

export async function signCheckpoint(signer: CheckpointSigner, claim: CheckpointClaim): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claim)))
    .setProtectedHeader({ alg: signer.alg, typ: "signalbox-checkpoint", ...(signer.kid ? { kid: signer.kid } : {}) })
    .sign(signer.key);
}

/** The claim of a checkpoint JWS, or undefined when its signature does not verify with `key`. */
export async function verifyCheckpoint(jws: string, key: KeyObject): Promise<CheckpointClaim | undefined> {
  try {
    const { payload } = await compactVerify(jws, key, { algorithms: ["ES256", "EdDSA"] });
    const claim = JSON.parse(new TextDecoder().decode(payload)) as CheckpointClaim;
    if (typeof claim.writer_id !== "string" || typeof claim.head_seq !== "number") return undefined;
    return claim;
  } catch {
    return undefined;
  }
}
