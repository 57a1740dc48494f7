/** Masking of request fields in audit records: a keyed hash keeps equal values correlatable. */

import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import type { JsonObject, JsonValue } from "../model/request.js";
import { canonicalJson } from "./canonical-json.js";

/** Fields masked when the configuration names none: token and session identifiers. */
export const DEFAULT_MASK: readonly string[] = Object.freeze(["context.token.jti", "context.session.id"]);

type MaskKey = string | Uint8Array | KeyObject;

/** The masked form of a value: `sha256:` and the first 16 hex digits of HMAC-SHA256(key, value). */
export function maskValue(key: MaskKey, value: JsonValue): string {
  const text = typeof value === "string" ? value : canonicalJson(value);
  return `sha256:${createHmac("sha256", key).update(text).digest("hex").slice(0, 16)}`;
}

/** A mask list and key prepared once: paths split, key imported (a string key is its UTF-8 bytes). */
export type Masker = (request: JsonObject) => JsonObject;

/** Masked strings remembered per masker; session ids repeat across a session's decisions. */
const MAX_CACHED = 4096;

export function createMasker(paths: readonly string[], key: string | Uint8Array): Masker {
  if (paths.length === 0) return (request) => request;
  const keyObject = createSecretKey(typeof key === "string" ? Buffer.from(key, "utf8") : key);
  const split = paths.map((p) => p.split("."));
  // An HMAC costs several microseconds, a lookup a fraction of one: the same value masks the same
  // way under one key, so the answer is kept (bounded; the whole cache is dropped when full).
  const cache = new Map<string, string>();
  const mask = (value: JsonValue): string => {
    if (typeof value !== "string") return maskValue(keyObject, value);
    let masked = cache.get(value);
    if (masked === undefined) {
      masked = maskValue(keyObject, value);
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(value, masked);
    }
    return masked;
  };
  return (request) => maskSplit(request, split, mask);
}

/**
 * Returns a copy of `request` with every dotted path in `paths` masked (a whole object is masked as
 * one value). The input is never changed: the engine still holds it.
 */
export function maskRequest(request: JsonObject, paths: readonly string[], key: MaskKey): JsonObject {
  if (paths.length === 0) return request;
  return maskSplit(
    request,
    paths.map((p) => p.split(".")),
    (value) => maskValue(key, value),
  );
}

/**
 * Copies only the objects on the way to a masked field and shares the rest with the input: the
 * record is serialised right away, so a deep copy of the whole request would be wasted work.
 */
function maskSplit(
  request: JsonObject,
  paths: readonly (readonly string[])[],
  mask: (value: JsonValue) => string,
): JsonObject {
  const root: JsonObject = { ...request };
  const copies = new Set<JsonObject>([root]);
  for (const segments of paths) {
    let node = root;
    for (let i = 0; i < segments.length; i++) {
      const head = segments[i] as string;
      if (!Object.hasOwn(node, head)) break;
      const value = node[head];
      if (value === undefined || value === null) break;
      if (i === segments.length - 1) {
        node[head] = mask(value);
        break;
      }
      if (typeof value !== "object" || Array.isArray(value)) break;
      let child = value as JsonObject;
      if (!copies.has(child)) {
        child = { ...child };
        copies.add(child);
        node[head] = child;
      }
      node = child;
    }
  }
  return root;
}
