/**
 * Loading a SQLite state file into the memory store at open (restore): every row the last prune
 * left. What has expired since is judged by decision time, not by the wall clock (a replay on event
 * time restarts in its own past), so it goes at the first prune, from memory and file alike.
 */

import type Database from "better-sqlite3";
import type { JsonObject } from "../model/request.js";
import type { MemoryStateStore } from "./memory.js";
import type { PendingDecision, Profile } from "./port.js";
import { isStorableKey } from "./profile-ops.js";
import type { ExpiryIndex } from "./sqlite-expiry.js";
import { bucketExpiry, windowOfRow } from "./sqlite-schema.js";

export interface LoadedRows {
  readonly profiles: number;
  readonly learnedValues: number;
  readonly scalars: number;
  readonly counterBuckets: number;
  readonly members: number;
  readonly claims: number;
  readonly pending: number;
  /** Wall time the load took, ms. */
  readonly ms: number;
}

/**
 * Restores every row into `memory` (profiles least recently written first, so its LRU bound keeps
 * the most recent) and notes each entry's expiry in `expiry`.
 */
export function loadState(
  db: Database.Database,
  memory: MemoryStateStore,
  expiry: ExpiryIndex,
  profileRetentionMs: number,
): LoadedRows {
  const started = performance.now();
  const profiles = new Map<string, Profile>();
  const touched = new Map<string, number>();
  const profile = (key: string): Profile => {
    let p = profiles.get(key);
    if (!p) {
      p = { sets: {}, values: {} };
      profiles.set(key, p);
    }
    return p;
  };
  for (const row of db.prepare("SELECT key, touched_at FROM profiles ORDER BY touched_at, key").raw().iterate()) {
    const [key, at] = row as [string, number];
    profile(key);
    touched.set(key, at);
  }
  let learnedValues = 0;
  for (const row of db.prepare("SELECT key, field, value, n, first, last FROM profile_sets").raw().iterate()) {
    const [key, field, value, n, first, last] = row as [string, string, string, number, number, number];
    if (!isStorableKey(field) || !isStorableKey(value)) continue;
    const sets = profile(key).sets;
    let set = sets[field];
    if (!set) {
      set = {};
      sets[field] = set;
    }
    set[value] = { n, first, last };
    learnedValues++;
  }
  let scalars = 0;
  for (const row of db.prepare("SELECT key, field, json FROM profile_values").raw().iterate()) {
    const [key, field, json] = row as [string, string, string];
    if (!isStorableKey(field)) continue;
    profile(key).values[field] = JSON.parse(json);
    scalars++;
  }
  for (const [key, p] of profiles) {
    memory.restoreProfile(key, p);
    expiry.note("profile", key, (touched.get(key) ?? 0) + profileRetentionMs);
  }

  let counterBuckets = 0;
  for (const row of db.prepare("SELECT key, bucket, count, expires_at FROM counters").raw().iterate()) {
    const [key, bucket, count, expiresAt] = row as [string, number, number, number];
    const windowMs = windowOfRow(bucket, expiresAt);
    memory.restoreCount(key, bucket, count, windowMs);
    expiry.note("counter", key, bucketExpiry(bucket, windowMs));
    counterBuckets++;
  }
  let members = 0;
  for (const row of db.prepare("SELECT key, bucket, member, expires_at FROM distinct_members").raw().iterate()) {
    const [key, bucket, member, expiresAt] = row as [string, number, string, number];
    const windowMs = windowOfRow(bucket, expiresAt);
    memory.restoreMember(key, bucket, member, windowMs);
    expiry.note("counter", key, bucketExpiry(bucket, windowMs));
    members++;
  }
  let claims = 0;
  for (const row of db.prepare("SELECT key, holder, expires_at FROM claims").raw().iterate()) {
    const [key, holder, expiresAt] = row as [string, string, number];
    memory.restoreClaim(key, JSON.parse(holder) as JsonObject, expiresAt);
    expiry.note("claim", key, expiresAt);
    claims++;
  }
  let pending = 0;
  for (const row of db.prepare("SELECT id, record, expires_at FROM pending").raw().iterate()) {
    const [id, record, expiresAt] = row as [string, string, number];
    memory.restorePending(id, JSON.parse(record) as PendingDecision, expiresAt);
    expiry.note("pending", id, expiresAt);
    pending++;
  }
  return {
    profiles: profiles.size,
    learnedValues,
    scalars,
    counterBuckets,
    members,
    claims,
    pending,
    ms: performance.now() - started,
  };
}
