/**
 * Reading a Redis profile hash (layout: `FIELD_SEP` in redis-scripts.ts) into a `Profile`, with its
 * version (`VERSION_FIELD`, ADR 0018). Every field that is not a learned value or a scalar (a set's
 * size `c␟field`, the version `_v`) is passed over.
 */

import type { JsonValue } from "../model/request.js";
import { emptyProfile, type Profile } from "./port.js";
import { isStorableKey } from "./profile-ops.js";
import { FIELD_SEP, VERSION_FIELD } from "./redis-scripts.js";

/** A profile hash as ioredis hands it over: an object (its `hgetall` reply transform) or a flat array. */
export type StoredHash = Record<string, string> | readonly string[];

/** A profile read from its hash, and the hash's version. */
export interface VersionedProfile {
  readonly profile: Profile;
  /**
   * The hash's version: 0 for an absent (empty) hash, undefined for a hash written before versions
   * existed, which a node copy must not be keyed by.
   */
  readonly version: number | undefined;
}

const CHAR_V = 0x76;
const CHAR_S = 0x73;

/** A profile from its stored hash. */
export function parseProfile(hash: StoredHash | null | undefined): Profile {
  return readProfileHash(hash).profile;
}

/** A profile from its stored hash, with the hash's version. */
export function readProfileHash(hash: StoredHash | null | undefined): VersionedProfile {
  const p = emptyProfile();
  if (!hash) return { profile: p, version: 0 };
  let version: string | undefined;
  let fields = 0;
  if (Array.isArray(hash)) {
    for (let i = 0; i + 1 < hash.length; i += 2) {
      const field = hash[i] as string;
      if (field === VERSION_FIELD) version = hash[i + 1] as string;
      else addField(p, field, hash[i + 1] as string);
      fields++;
    }
  } else {
    const h = hash as Record<string, string>;
    for (const field in h) {
      if (field === VERSION_FIELD) version = h[field] as string;
      else addField(p, field, h[field] as string);
      fields++;
    }
  }
  return { profile: p, version: version !== undefined ? Number(version) : fields === 0 ? 0 : undefined };
}

function addField(p: Profile, field: string, raw: string): void {
  const kind = field.charCodeAt(0);
  if (kind === CHAR_V) {
    const name = field.slice(2);
    if (isStorableKey(name)) p.values[name] = JSON.parse(raw) as JsonValue;
  } else if (kind === CHAR_S) {
    const sep = field.indexOf(FIELD_SEP, 2);
    if (sep < 0) return;
    const name = field.slice(2, sep);
    const value = field.slice(sep + 1);
    if (!isStorableKey(name) || !isStorableKey(value)) return;
    const a = raw.indexOf(":");
    const b = raw.indexOf(":", a + 1);
    let set = p.sets[name];
    if (!set) {
      set = {};
      p.sets[name] = set;
    }
    set[value] = { n: numberAt(raw, 0, a), first: numberAt(raw, a + 1, b), last: numberAt(raw, b + 1, raw.length) };
  }
}

/**
 * The number written in `s` from `start` to `end`: whole numbers (counts and epoch ms, nearly all
 * of them) are read digit by digit without cutting a substring; anything else goes to `Number`.
 */
function numberAt(s: string, start: number, end: number): number {
  if (end - start > 15 || end <= start) return Number(s.slice(start, end));
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number(s.slice(start, end));
    n = n * 10 + d;
  }
  return n;
}
