/**
 * Coalesces the counter and claim parts of the reads issued in one event-loop turn into one call of
 * the read script, and hands each read its own part of the reply. Each decision still waits for one
 * round trip (its profiles' `HGETALL`s ride in the same pipeline); Redis runs one script instead of
 * one per decision. Claims of one call are taken in order, exactly as separate calls would take them.
 *
 * Like coalesced writes, a call spans identities and so Cluster slots; see docs/state.md.
 */

import { type Queued, TickBatch } from "./tick-batch.js";

/** One counter to read: its Redis key and its window's oldest and newest bucket. */
export interface CounterArgs {
  readonly key: string;
  readonly oldest: number;
  readonly newest: number;
}

/** One claim to take: its Redis key, the holder's JSON, when it expires (caller's clock), its Redis TTL and `now`. */
export interface ClaimArgs {
  readonly key: string;
  readonly holder: string;
  readonly expiresAt: number;
  readonly ttlMs: number;
  readonly now: number;
}

export interface ScriptRead {
  readonly counters: readonly CounterArgs[];
  readonly claims: readonly ClaimArgs[];
}

/** Sends one call of the read script and resolves with its flat reply: per counter, then per claim. */
export type SendRead = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

/** Most counters and claims one call carries; more waiting reads go in further calls of the same turn. */
const MAX_BATCH_ITEMS = 1024;

/** The read script's keys for some counters and claims: the counters', then the claims'. */
export function readKeys(counters: readonly CounterArgs[], claims: readonly ClaimArgs[]): string[] {
  return [...counters.map((c) => c.key), ...claims.map((c) => c.key)];
}

/** The read script's arguments for some counters and claims (see `READ` in redis-scripts.ts). */
export function readArgs(counters: readonly CounterArgs[], claims: readonly ClaimArgs[]): (string | number)[] {
  const args: (string | number)[] = [counters.length, claims.length];
  for (const c of counters) args.push(c.oldest, c.newest);
  for (const c of claims) args.push(c.holder, c.expiresAt, c.ttlMs, c.now);
  return args;
}

export class ReadBatcher extends TickBatch<ScriptRead, unknown[]> {
  /** Script calls sent so far, and reads they carried (for measurements). */
  calls = 0;
  reads = 0;

  constructor(private readonly sendRead: SendRead) {
    super(MAX_BATCH_ITEMS, (read) => read.counters.length + read.claims.length);
  }

  /** One call of the read script for a chunk; each read gets its part of the reply: per counter `[count, distinct]`, then per claim `[won, holder]`. */
  protected send(batch: readonly Queued<ScriptRead, unknown[]>[]): void {
    this.calls += 1;
    this.reads += batch.length;
    const counters: CounterArgs[] = [];
    const claims: ClaimArgs[] = [];
    for (const { item } of batch) {
      for (const c of item.counters) counters.push(c);
      for (const c of item.claims) claims.push(c);
    }
    this.sendRead(readKeys(counters, claims), readArgs(counters, claims)).then(
      (reply) => {
        const flat = reply as unknown[];
        let counter = 0;
        let claim = counters.length;
        for (const q of batch) {
          const part: unknown[] = [];
          for (let i = 0; i < q.item.counters.length; i++) part.push(flat[counter++]);
          for (let i = 0; i < q.item.claims.length; i++) part.push(flat[claim++]);
          q.resolve(part);
        }
      },
      (err: unknown) => {
        for (const q of batch) q.reject(err);
      },
    );
  }
}
