/**
 * The state port: learned profiles, sliding-window counters, atomic first-seen claims and decisions
 * awaiting an outcome. One batched `read` before a decision and one batched `write` after it, so a
 * networked adapter costs at most two round trips per decision.
 *
 * Contract every adapter keeps (checked by `test/state/conformance.ts`):
 * - `read` returns an entry for every requested profile, counter and claim; an absent profile is an
 *   empty profile, an absent counter is `{ count: 0, distinct: 0 }`. Snapshots are read-only; a
 *   networked adapter's snapshot is isolated from later writes, while the in-process memory adapter,
 *   the SQLite adapter (memory-resident, ADR 0016) and the Redis adapter's node-local identity
 *   profile copies (ADR 0018) hand out live profiles (documented exemption in the conformance suite).
 * - A claim is an atomic get-or-set: of any number of concurrent claims of one key, exactly one sees
 *   `won: true`, and every caller sees the first holder until the claim's TTL passes.
 * - `write` applies every update; concurrent `incr` never lose an update; `see` keeps at most `cap`
 *   values per field, evicting the least recently seen.
 * - Counters count events whose time is within `[now - windowMs, now]` at bucket granularity
 *   (`windowMs / COUNTER_BUCKETS`): an event may be counted up to one bucket longer than its window.
 * - Times are epoch milliseconds, taken from the decision's clock (event time on replay), never from
 *   the adapter's own clock, so replays are deterministic.
 */

import type { ControlPath } from "../model/control-path.js";
import type { Outcome } from "../model/outcome.js";
import type { JsonObject, JsonValue } from "../model/request.js";

/** How many buckets a counter window is divided into. */
export const COUNTER_BUCKETS = 10;

/** How often and when a value of a learned set was seen. */
export interface SeenStats {
  /** Times seen. */
  n: number;
  /** First and last time seen, epoch ms. */
  first: number;
  last: number;
}

/** What the engine has learned about one identity (or a global population, e.g. `global:login`). */
export interface Profile {
  /** Learned sets by field, e.g. `devices`, `countries`, `asns`, `hours`: value → stats. */
  sets: Record<string, Record<string, SeenStats>>;
  /** Scalars by field, e.g. `last_location`, `rate_ewma`. */
  values: Record<string, JsonValue>;
}

export interface CounterRead {
  /** Sum of `incr` within the window. */
  count: number;
  /**
   * Distinct members added with `distinct` within the window (may be approximate, ±2%), when the
   * spec asked for them; 0 otherwise.
   */
  distinct: number;
}

export interface CounterSpec {
  readonly key: string;
  readonly windowMs: number;
  /**
   * Count the distinct members too. Only counters fed by `distinct` updates need it, and it is the
   * costly part of a counter read (a union of sets in memory, a HyperLogLog merge on Redis).
   */
  readonly distinct?: boolean;
}

export interface ClaimSpec {
  readonly key: string;
  /** What the first holder looks like, e.g. `{ device, ip, workload }`. */
  readonly holder: JsonObject;
  readonly ttlMs: number;
}

export interface ClaimRead {
  readonly first: JsonObject;
  /** True only for the one caller whose claim set the value. */
  readonly won: boolean;
}

export interface StateQuery {
  readonly profiles: readonly string[];
  readonly counters: readonly CounterSpec[];
  readonly claims: readonly ClaimSpec[];
}

export interface StateSnapshot {
  readonly profiles: ReadonlyMap<string, Profile>;
  readonly counters: ReadonlyMap<string, CounterRead>;
  readonly claims: ReadonlyMap<string, ClaimRead>;
}

/** A decision kept until its outcome arrives: its held-back learning and the outcome so far. */
export interface PendingDecision {
  readonly subject: string;
  readonly controlPath: ControlPath;
  /** Decision time, epoch ms. */
  readonly at: number;
  /** Learning withheld because the decision was not trusted; applied on a trusted outcome. */
  readonly learn: readonly StateUpdate[];
  readonly outcome?: Outcome;
}

export type StateUpdate =
  /** Mark `value` seen in `profile.sets[field]` at `at`; keep at most `cap` values. */
  | {
      readonly op: "see";
      readonly profile: string;
      readonly field: string;
      readonly value: string;
      readonly at: number;
      readonly cap: number;
    }
  /** Set `profile.values[field]`. */
  | { readonly op: "set"; readonly profile: string; readonly field: string; readonly value: JsonValue }
  /** Add `by` to a counter's bucket at `at`. */
  | {
      readonly op: "incr";
      readonly counter: string;
      readonly at: number;
      readonly by: number;
      readonly windowMs: number;
    }
  /** Add `member` to a counter's distinct set at `at`. */
  | {
      readonly op: "distinct";
      readonly counter: string;
      readonly member: string;
      readonly at: number;
      readonly windowMs: number;
    }
  /** Store (or replace) a pending decision for `ttlMs`. */
  | { readonly op: "pending"; readonly id: string; readonly record: PendingDecision; readonly ttlMs: number };

export interface StateStore {
  /** Adapter name for logs and metrics, e.g. `memory`, `sqlite`, `redis`. */
  readonly kind: string;
  /**
   * True when calls never wait on I/O (memory, SQLite): the engine then skips its timeout timer.
   * Snapshots are read-only to their readers.
   */
  readonly synchronous?: boolean;
  /** One batched read (atomic claims included) at decision time `now`. */
  read(query: StateQuery, now: number): Promise<StateSnapshot>;
  /** One batched write of every update a decision or outcome produced. */
  write(updates: readonly StateUpdate[], now: number): Promise<void>;
  /** A pending decision, or undefined when unknown or expired. */
  getPending(id: string, now: number): Promise<PendingDecision | undefined>;
  /** Releases connections and flushes; further calls reject. */
  close(): Promise<void>;
  /** Running totals of a store that talks to a server, for `/metrics`; absent on the others. */
  stats?(): StateStoreStats;
}

/** What a state store that talks to a server (Redis) has counted since it opened. */
export interface StateStoreStats {
  /** Network round trips to the server (the parts of a split Cluster call travel together and count once). */
  readonly roundTrips: number;
  /** Reconnections that reached another server (a failover, a restart), and slot moves a Cluster refresh found. */
  readonly serverChanges: number;
  /** Cluster calls sent again split by slot because a key's slot had moved (a resharding). */
  readonly slotMovedRetries: number;
  /** Profile reads the node's copy served (the server said "same"). */
  readonly copyHits: number;
  /** Profile reads that found the node's copy out of date (another node had written the profile). */
  readonly copyStale: number;
}

export function emptyProfile(): Profile {
  return { sets: {}, values: {} };
}

/** The bucket index of a time for a window: `floor(at / (windowMs / COUNTER_BUCKETS))`. */
export function bucketOf(at: number, windowMs: number): number {
  return Math.floor(at / Math.max(1, Math.floor(windowMs / COUNTER_BUCKETS)));
}

/** The oldest bucket index still inside the window ending at `now`. */
export function oldestBucket(now: number, windowMs: number): number {
  return bucketOf(now, windowMs) - COUNTER_BUCKETS;
}
