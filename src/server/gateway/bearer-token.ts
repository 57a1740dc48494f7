/** Verifies bearer JWTs against a configured JWKS (file or URL), issuer, audience and algorithms. */

import { readFileSync } from "node:fs";
import { createLocalJWKSet, createRemoteJWKSet, errors, type JSONWebKeySet, type JWTPayload, jwtVerify } from "jose";
import { SignalboxError } from "../../errors/index.js";
import type { GatewayJwtConfig } from "./config.js";

export type TokenVerification =
  | { readonly ok: true; readonly claims: JWTPayload }
  | { readonly ok: false; readonly description: string };

export interface BearerTokenVerifier {
  /**
   * Verifies one compact JWS. A token that is malformed, expired, badly signed or fails a claim
   * check is `ok: false` with a description fit for `error_description` (it never quotes the
   * token). A failure to obtain keys (an unreachable JWKS URL) throws: that is an outage, not a
   * bad token, and must not be answered as a deny.
   */
  verify(token: string): Promise<TokenVerification>;
}

type KeySource = Parameters<typeof jwtVerify>[1];

/**
 * Builds the verifier once at start-up. A JWKS file is read and checked here, so a broken file
 * stops the service with `CONFIG_INVALID` instead of rejecting every request later.
 */
export function createBearerTokenVerifier(config: GatewayJwtConfig): BearerTokenVerifier {
  const keys = keySource(config);
  const options = {
    algorithms: [...config.algorithms],
    clockTolerance: config.clockToleranceSec,
    ...(config.issuer !== undefined ? { issuer: toList(config.issuer) } : {}),
    ...(config.audience !== undefined ? { audience: toList(config.audience) } : {}),
  };
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, keys, options);
        if (typeof payload.sub !== "string" || payload.sub.length === 0) {
          return { ok: false, description: "the token has no sub claim" };
        }
        return { ok: true, claims: payload };
      } catch (err) {
        const description = describeRejection(err);
        if (description === undefined) throw err;
        return { ok: false, description };
      }
    },
  };
}

function keySource(config: GatewayJwtConfig): KeySource {
  if (config.jwksUrl !== undefined) return createRemoteJWKSet(new URL(config.jwksUrl));
  const file = config.jwksFile ?? "";
  let jwks: unknown;
  try {
    jwks = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new SignalboxError("CONFIG_INVALID", `gateway.jwt.jwksFile: cannot read a JSON key set from "${file}"`, {
      cause: err,
    });
  }
  try {
    return createLocalJWKSet(jwks as JSONWebKeySet);
  } catch (err) {
    throw new SignalboxError("CONFIG_INVALID", `gateway.jwt.jwksFile: "${file}" is not a JWK set with a "keys" list`, {
      cause: err,
    });
  }
}

/** The `error_description` for a token the client must replace, or undefined for an outage. */
function describeRejection(err: unknown): string | undefined {
  if (err instanceof errors.JWTExpired) return "the token has expired";
  if (err instanceof errors.JWTClaimValidationFailed) return `the token's ${err.claim} claim is not acceptable`;
  if (err instanceof errors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return "no trusted key matches the token";
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) {
    return "the token is not a well-formed signed JWT";
  }
  return undefined;
}

function toList(v: string | readonly string[]): string | string[] {
  return typeof v === "string" ? v : [...v];
}
