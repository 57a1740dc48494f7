/** Masking of request fields in audit records: a keyed hash keeps equal values correlatable. */

import { createHmac } from "node:crypto";
import type { JsonObject, JsonValue } from "../model/request.js";
import { canonicalJson } from "./canonical-json.js";

/** Fields masked when the configuration names none: token and session identifiers. */
export const DEFAULT_MASK: readonly string[] = Object.freeze(["context.token.jti", "context.session.id"]);

/** The masked form of a value: `sha256:` and the first 16 hex digits of HMAC-SHA256(key, value). */
export function maskValue(key: string | Uint8Array, value: JsonValue): string {
  const text = typeof value === "string" ? value : canonicalJson(value);
  return `sha256:${createHmac("sha256", key).update(text).digest("hex").slice(0, 16)}`;
}

/**
 * Returns a copy of `request` with every dotted path in `paths` masked (a whole object is masked as
 * one value). The input is never changed: the engine still holds it.
 */
export function maskRequest(request: JsonObject, paths: readonly string[], key: string | Uint8Array): JsonObject {
  if (paths.length === 0) return request;
  const copy = structuredClone(request);
  for (const path of paths) maskPath(copy, path.split("."), key);
  return copy;
}

function maskPath(node: JsonObject, segments: readonly string[], key: string | Uint8Array): void {
  const [head, ...rest] = segments;
  if (head === undefined || !Object.hasOwn(node, head)) return;
  const value = node[head];
  if (value === undefined || value === null) return;
  if (rest.length === 0) {
    node[head] = maskValue(key, value);
    return;
  }
  if (typeof value === "object" && !Array.isArray(value)) maskPath(value, rest, key);
}
