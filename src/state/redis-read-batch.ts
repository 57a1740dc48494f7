/**
 * Coalesces the counter, claim and profile version-check parts of the reads issued in one event-loop
 * turn into one call of the read script, and hands each read its own part of the reply. Each
 * decision still waits for one round trip (the `HGETALL`s of its profiles without a node copy ride
 * in the same pipeline); Redis runs one script instead of one per decision. Claims of one call are
 * taken in order, exactly as separate calls would take them.
 *
 * Like coalesced writes, a call spans identities and so Cluster slots: on a Redis Cluster the store
 * splits it by slot (redis-cluster-split.ts, ADR 0020).
 */

import { PartFailed } from "./redis-part-failure.js";
import { type Queued, TickBatch } from "./tick-batch.js";

/** One counter to read: its Redis key, its window's oldest and newest bucket, and whether to count distinct members. */
export interface CounterArgs {
  readonly key: string;
  readonly oldest: number;
  readonly newest: number;
  readonly distinct: boolean;
}

/** One claim to take: its Redis key, the holder's JSON, when it expires (caller's clock), its Redis TTL and `now`. */
export interface ClaimArgs {
  readonly key: string;
  readonly holder: string;
  readonly expiresAt: number;
  readonly ttlMs: number;
  readonly now: number;
}

/** One profile to check: its Redis key and the version of the node's copy (ADR 0018). */
export interface ProfileCheckArgs {
  readonly key: string;
  readonly version: number;
}

export interface ScriptRead {
  readonly counters: readonly CounterArgs[];
  readonly claims: readonly ClaimArgs[];
  readonly profiles: readonly ProfileCheckArgs[];
}

/** Sends one call of the read script and resolves with its flat reply: per counter, then per claim, then per profile. */
export type SendRead = (read: ScriptRead) => Promise<unknown>;

/** Most counters, claims and profile checks one call carries; more waiting reads go in further calls of the same turn. */
const MAX_BATCH_ITEMS = 1024;

/** The read script's keys: the counters', then the claims', then the checked profiles'. */
export function readKeys(read: ScriptRead): string[] {
  const keys: string[] = [];
  for (const c of read.counters) keys.push(c.key);
  for (const c of read.claims) keys.push(c.key);
  for (const p of read.profiles) keys.push(p.key);
  return keys;
}

/** The read script's arguments (see `READ` in redis-scripts.ts). */
export function readArgs(read: ScriptRead): (string | number)[] {
  const args: (string | number)[] = [read.counters.length, read.claims.length, read.profiles.length];
  for (const c of read.counters) args.push(c.oldest, c.newest, c.distinct ? 1 : 0);
  for (const c of read.claims) args.push(c.holder, c.expiresAt, c.ttlMs, c.now);
  for (const p of read.profiles) args.push(p.version);
  return args;
}

export class ReadBatcher extends TickBatch<ScriptRead, unknown[]> {
  /** Script calls sent so far, and reads they carried (for measurements). */
  calls = 0;
  reads = 0;

  constructor(private readonly sendRead: SendRead) {
    super(MAX_BATCH_ITEMS, (read) => read.counters.length + read.claims.length + read.profiles.length);
  }

  /**
   * One call of the read script for a chunk; each read gets its part of the reply: per counter
   * `[count, distinct]`, then per claim `[won, holder]`, then per profile `0` ("same") or its hash.
   */
  protected send(batch: readonly Queued<ScriptRead, unknown[]>[]): void {
    this.calls += 1;
    this.reads += batch.length;
    const counters: CounterArgs[] = [];
    const claims: ClaimArgs[] = [];
    const profiles: ProfileCheckArgs[] = [];
    for (const { item } of batch) {
      for (const c of item.counters) counters.push(c);
      for (const c of item.claims) claims.push(c);
      for (const p of item.profiles) profiles.push(p);
    }
    const merged: ScriptRead = { counters, claims, profiles };
    this.sendRead(merged).then(
      (reply) => {
        const flat = reply as unknown[];
        let counter = 0;
        let claim = counters.length;
        let profile = claim + claims.length;
        for (const q of batch) {
          const part: unknown[] = [];
          for (let i = 0; i < q.item.counters.length; i++) part.push(flat[counter++]);
          for (let i = 0; i < q.item.claims.length; i++) part.push(flat[claim++]);
          for (let i = 0; i < q.item.profiles.length; i++) part.push(flat[profile++]);
          // On a Redis Cluster, a read with an entry in a part whose call failed fails; the rest stand.
          const failed = part.find((entry) => entry instanceof PartFailed) as PartFailed | undefined;
          if (failed) q.reject(failed.error);
          else q.resolve(part);
        }
      },
      (err: unknown) => {
        for (const q of batch) q.reject(err);
      },
    );
  }
}
