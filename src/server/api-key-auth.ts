/** API-key authentication: `Authorization: Bearer <key>`, compared in constant time, with decide and admin rights. */

import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ApiKeyConfig, ApiKeyRight } from "../config/serve-config.js";
import { SignalboxError } from "../errors/signalbox-error.js";
import type { RouteRight } from "./route-config.js";

interface KeyDigest {
  readonly right: ApiKeyRight;
  readonly digest: Buffer;
}

const sha256 = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** The right a presented key carries, or undefined. Every configured key is compared, so timing says nothing. */
export function rightOfKey(keys: readonly KeyDigest[], presented: string): ApiKeyRight | undefined {
  const digest = sha256(presented);
  let found: ApiKeyRight | undefined;
  for (const k of keys) {
    if (timingSafeEqual(k.digest, digest) && found !== "admin") found = k.right;
  }
  return found;
}

/** The bearer token of an Authorization header, or undefined when the header is absent or another scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

function permits(has: ApiKeyRight, needs: RouteRight): boolean {
  return needs === "public" || has === "admin" || needs === "decide";
}

/** Gateway faces read the end user's bearer token from Authorization, so their callers send the key here. */
export const GATEWAY_KEY_HEADER = "x-signalbox-api-key";

const isGatewayRoute = (url: string): boolean => url.startsWith("/gateway/");

/** The right a route needs: declared in its config; otherwise public for the API docs and `decide` elsewhere. */
function neededRight(request: FastifyRequest): RouteRight {
  const declared = request.routeOptions.config.right;
  if (declared) return declared;
  const url = request.routeOptions.url ?? "";
  return url === "/docs" || url.startsWith("/docs/") ? "public" : "decide";
}

/**
 * Registers the check. With no keys configured every call is accepted whatever its Authorization
 * header says (the AuthZEN harnesses send a literal `Authorization: undefined`).
 */
export function registerApiKeyAuth(app: FastifyInstance, keys: readonly ApiKeyConfig[]): void {
  if (keys.length === 0) return;
  const digests: KeyDigest[] = keys.map((k) => ({ right: k.right, digest: sha256(k.key) }));
  app.addHook("onRequest", async (request) => {
    const needs = neededRight(request);
    if (needs === "public") return;
    const gateway = isGatewayRoute(request.routeOptions.url ?? "");
    const gatewayKey = request.headers[GATEWAY_KEY_HEADER];
    const token = gateway
      ? typeof gatewayKey === "string" && gatewayKey.length > 0
        ? gatewayKey
        : undefined
      : bearerToken(request.headers.authorization);
    if (token === undefined) {
      const how = gateway ? `${GATEWAY_KEY_HEADER}: <key>` : "Authorization: Bearer <key>";
      throw new SignalboxError("UNAUTHENTICATED", `missing API key; send ${how}`);
    }
    const has = rightOfKey(digests, token);
    if (has === undefined) throw new SignalboxError("UNAUTHENTICATED", "the API key is not valid");
    if (!permits(has, needs)) {
      throw new SignalboxError("FORBIDDEN", `the API key has the "${has}" right; this call needs "${needs}"`);
    }
  });
}
