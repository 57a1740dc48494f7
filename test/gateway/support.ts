/** Shared pieces of the gateway tests: a signing key with its JWKS file, tokens, the engine, the config. */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { createEngine } from "../../src/engine/create-engine.js";
import type { Engine } from "../../src/engine/engine.js";
import { loadPolicy } from "../../src/policy/load.js";
import type { GatewayConfigInput } from "../../src/server/gateway/config.js";

export const ISSUER = "https://issuer.signalbox.test";
export const AUDIENCE = "todo-api";
export const POLICY_FILE = fileURLToPath(new URL("./fixtures/gateway-policy.yaml", import.meta.url));

export interface TokenKit {
  readonly jwksFile: string;
  sign(
    claims: JWTPayload,
    options?: { expiresIn?: string | number; issuer?: string; audience?: string },
  ): Promise<string>;
  /** A token signed by a key the JWKS does not hold. */
  signWithStrangerKey(claims: JWTPayload): Promise<string>;
  cleanup(): void;
}

export async function createTokenKit(): Promise<TokenKit> {
  const dir = mkdtempSync(join(tmpdir(), "signalbox-gateway-"));
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const stranger = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "gw-test", alg: "ES256", use: "sig" };
  const jwksFile = join(dir, "jwks.json");
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  const build = (claims: JWTPayload, o: { expiresIn?: string | number; issuer?: string; audience?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", kid: "gw-test" })
      .setIssuedAt()
      .setIssuer(o.issuer ?? ISSUER)
      .setAudience(o.audience ?? AUDIENCE)
      .setExpirationTime(o.expiresIn ?? "10m");
  return {
    jwksFile,
    sign: (claims, o) => build(claims, o).sign(privateKey),
    signWithStrangerKey: (claims) => build(claims).sign(stranger.privateKey),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The real engine on the fixture policy; detectors off so the policy's rules alone pick the path. */
export async function createGatewayEngine(): Promise<Engine> {
  return createEngine({ policy: await loadPolicy(POLICY_FILE), detectors: [] });
}

export function gatewayConfig(jwksFile: string): GatewayConfigInput {
  return {
    jwt: { jwksFile, issuer: ISSUER, audience: AUDIENCE },
    subjectHeaders: { id: "x-user-id", type: "x-subject-type" },
    routes: [
      { path: "/admin/{section}", privileged: true, sensitivity: "high" },
      { path: "/reports" },
      { path: "/profile" },
      { path: "/search" },
      { method: "POST", path: "/payouts/{payoutId}" },
      { path: "/secrets/{name}" },
      { method: "GET", path: "/todos" },
      { path: "/todos/{todoId}" },
    ],
    removeHeaders: ["authorization"],
  };
}
