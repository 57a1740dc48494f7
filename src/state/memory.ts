/**
 * The in-memory state adapter: one process, nothing kept across restarts; the reference adapter.
 * With a `journal` it reports every row it changes, which makes it the authoritative copy behind
 * the SQLite adapter (a durable mirror); `restore*` load rows back at open.
 */

import type { JsonObject } from "../model/request.js";
import {
  bucketOf,
  type ClaimRead,
  type CounterRead,
  emptyProfile,
  oldestBucket,
  type PendingDecision,
  type Profile,
  type StateQuery,
  type StateSnapshot,
  type StateStore,
  type StateUpdate,
} from "./port.js";
import { applyToProfile, isStorableKey } from "./profile-ops.js";
import { SUMMARY_MIN_SIZE, summarise } from "./profile-summary.js";
import type { DroppedKind, ExpiringKind, StateJournal } from "./state-journal.js";

interface Counter {
  buckets: Map<number, number>;
  distinct: Map<number, Set<string>>;
  windowMs: number;
}

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

export interface MemoryStateOptions {
  /** Most profiles kept; the least recently used are dropped beyond it. Default 1,000,000. */
  maxProfiles?: number;
  /** Most counters and claims kept, each. Default 1,000,000. */
  maxEntries?: number;
  /**
   * Most decisions awaiting an outcome kept. Default 100,000: each holds its held-back learning
   * (about 3 KB), and senders that never report outcomes would otherwise fill the heap (1,000,000
   * of them is over 3 GB). Beyond it the oldest are dropped; their outcomes then count as unknown.
   */
  maxPending?: number;
  /** Told of every row-level change (see `StateJournal`); without one, nothing is reported. */
  journal?: StateJournal;
}

export class MemoryStateStore implements StateStore {
  readonly kind = "memory";
  readonly synchronous = true;
  private readonly profiles = new Map<string, Profile>();
  private readonly counters = new Map<string, Counter>();
  private readonly claims = new Map<string, Expiring<JsonObject>>();
  private readonly pending = new Map<string, Expiring<PendingDecision>>();
  private readonly maxProfiles: number;
  private readonly maxEntries: number;
  private readonly maxPending: number;
  private readonly journal: StateJournal | undefined;
  private closed = false;

  constructor(options: MemoryStateOptions = {}) {
    this.maxProfiles = options.maxProfiles ?? 1_000_000;
    this.maxEntries = options.maxEntries ?? 1_000_000;
    this.maxPending = options.maxPending ?? 100_000;
    this.journal = options.journal;
  }

  async read(query: StateQuery, now: number): Promise<StateSnapshot> {
    this.assertOpen();
    return this.readSync(query, now);
  }

  /** Synchronous read, used by the benchmark to measure the engine without promise overhead. */
  readSync(query: StateQuery, now: number): StateSnapshot {
    const profiles = new Map<string, Profile>();
    for (const key of query.profiles) {
      const p = this.profiles.get(key);
      if (p) {
        // refresh LRU position
        this.profiles.delete(key);
        this.profiles.set(key, p);
      }
      // The live profile, not a copy: detectors only read snapshots (updates go through the sink),
      // and copying the large population profiles dominated the cost of a decision. A decision may
      // therefore see learning committed after its read; no detector depends on the difference.
      profiles.set(key, p ?? emptyProfile());
    }
    const counters = new Map<string, CounterRead>();
    for (const spec of query.counters) {
      counters.set(spec.key, this.readCounter(spec.key, spec.windowMs, now, spec.distinct === true));
    }
    const claims = new Map<string, ClaimRead>();
    for (const spec of query.claims) {
      const existing = this.claims.get(spec.key);
      if (existing && existing.expiresAt > now) {
        claims.set(spec.key, { first: existing.value, won: false });
      } else {
        this.claims.set(spec.key, { value: spec.holder, expiresAt: now + spec.ttlMs });
        this.journal?.claimed(spec.key, spec.holder, now + spec.ttlMs);
        bound(this.claims, this.maxEntries, "claim", this.journal);
        claims.set(spec.key, { first: spec.holder, won: true });
      }
    }
    return { profiles, counters, claims };
  }

  async write(updates: readonly StateUpdate[], now: number): Promise<void> {
    this.assertOpen();
    this.writeSync(updates, now);
  }

  writeSync(updates: readonly StateUpdate[], now: number): void {
    // One branch: the journalled path is separate, so the plain adapter pays nothing for it.
    if (this.journal) {
      this.writeJournalled(updates, now, this.journal);
      return;
    }
    for (const u of updates) {
      switch (u.op) {
        case "see":
        case "set":
          applyToProfile(this.profileFor(u.profile, undefined), u);
          break;
        case "incr": {
          const c = this.counter(u.counter, u.windowMs);
          const b = bucketOf(u.at, u.windowMs);
          c.buckets.set(b, (c.buckets.get(b) ?? 0) + u.by);
          prune(c, u.at);
          break;
        }
        case "distinct": {
          const c = this.counter(u.counter, u.windowMs);
          const b = bucketOf(u.at, u.windowMs);
          let s = c.distinct.get(b);
          if (!s) {
            s = new Set();
            c.distinct.set(b, s);
          }
          s.add(u.member);
          prune(c, u.at);
          break;
        }
        case "pending":
          this.pending.set(u.id, { value: u.record, expiresAt: u.record.at + u.ttlMs });
          this.sweepPending(u.record.at);
          bound(this.pending, this.maxPending, "pending", undefined);
          break;
      }
    }
  }

  /** `writeSync` with every changed row reported to the journal. */
  private writeJournalled(updates: readonly StateUpdate[], now: number, j: StateJournal): void {
    for (const u of updates) {
      switch (u.op) {
        case "see":
        case "set": {
          const p = this.profileFor(u.profile, j);
          const evicted = applyToProfile(p, u);
          if (!isStorableKey(u.field)) break;
          j.touched(u.profile, now);
          if (u.op === "set") j.valueSet(u.profile, u.field, u.value);
          else {
            const set = p.sets[u.field];
            const stats = set && Object.hasOwn(set, u.value) ? set[u.value] : undefined;
            if (stats) j.seen(u.profile, u.field, u.value, stats);
            for (const v of evicted) j.evicted(u.profile, u.field, v);
          }
          break;
        }
        case "incr": {
          const c = this.counter(u.counter, u.windowMs, j);
          const b = bucketOf(u.at, u.windowMs);
          const total = (c.buckets.get(b) ?? 0) + u.by;
          c.buckets.set(b, total);
          j.counted(u.counter, b, total, u.windowMs);
          prune(c, u.at);
          break;
        }
        case "distinct": {
          const c = this.counter(u.counter, u.windowMs, j);
          const b = bucketOf(u.at, u.windowMs);
          let s = c.distinct.get(b);
          if (!s) {
            s = new Set();
            c.distinct.set(b, s);
          }
          if (!s.has(u.member)) {
            s.add(u.member);
            j.memberAdded(u.counter, b, u.member, u.windowMs);
          }
          prune(c, u.at);
          break;
        }
        case "pending":
          this.pending.set(u.id, { value: u.record, expiresAt: u.record.at + u.ttlMs });
          j.pendingStored(u.id, u.record, u.record.at + u.ttlMs);
          this.sweepPending(u.record.at);
          bound(this.pending, this.maxPending, "pending", j);
          break;
      }
    }
  }

  // --- restore (loading a durable copy at open) and expiry; nothing here is journalled except drops ---

  /** Puts a loaded profile in as the most recently used one. */
  restoreProfile(key: string, profile: Profile): void {
    // Large (population) sets answer reads from a summary from the start, not after their next new value.
    for (const field in profile.sets) {
      const set = profile.sets[field];
      if (set && Object.keys(set).length >= SUMMARY_MIN_SIZE) summarise(set);
    }
    this.profiles.delete(key);
    this.profiles.set(key, profile);
    bound(this.profiles, this.maxProfiles, "profile", this.journal);
  }

  /** Puts a loaded counter bucket total in. */
  restoreCount(key: string, bucket: number, total: number, windowMs: number): void {
    this.counter(key, windowMs, this.journal).buckets.set(bucket, total);
  }

  /** Puts a loaded distinct member in. */
  restoreMember(key: string, bucket: number, member: string, windowMs: number): void {
    const c = this.counter(key, windowMs, this.journal);
    let s = c.distinct.get(bucket);
    if (!s) {
      s = new Set();
      c.distinct.set(bucket, s);
    }
    s.add(member);
  }

  /** Puts a loaded claim in. */
  restoreClaim(key: string, holder: JsonObject, expiresAt: number): void {
    this.claims.set(key, { value: holder, expiresAt });
    bound(this.claims, this.maxEntries, "claim", this.journal);
  }

  /** Puts a loaded pending decision in. */
  restorePending(id: string, record: PendingDecision, expiresAt: number): void {
    this.pending.set(id, { value: record, expiresAt });
    bound(this.pending, this.maxPending, "pending", this.journal);
  }

  /**
   * Drops a claim or pending decision whose time has passed, or a counter with no bucket left in
   * its window, at `now`; returns whether it did. A live entry is left alone.
   */
  expire(kind: ExpiringKind, key: string, now: number): boolean {
    let expired: boolean;
    if (kind === "counter") {
      const c = this.counters.get(key);
      expired = c !== undefined && newestBucket(c) < oldestBucket(now, c.windowMs);
      if (expired) this.counters.delete(key);
    } else {
      const map: Map<string, Expiring<unknown>> = kind === "claim" ? this.claims : this.pending;
      const e = map.get(key);
      expired = e !== undefined && e.expiresAt <= now;
      if (expired) map.delete(key);
    }
    if (expired) this.journal?.expired(kind, key, now);
    return expired;
  }

  /**
   * Drops expired pending decisions from the oldest end (insertion order is nearly decision-time
   * order): without it an expired record nobody asks about again would stay until the cap pushed it out.
   * Stops at the first live one, so a write costs O(1) amortised.
   */
  private sweepPending(now: number): void {
    for (const [id, e] of this.pending) {
      if (e.expiresAt > now) return;
      this.pending.delete(id);
      this.journal?.expired("pending", id, now);
    }
  }

  /** Drops a profile (retention); returns whether it existed. */
  dropProfile(key: string): boolean {
    const existed = this.profiles.delete(key);
    if (existed) this.journal?.dropped("profile", key);
    return existed;
  }

  /** How many profiles, counters, claims and pending decisions are held, for diagnostics. */
  sizes(): { profiles: number; counters: number; claims: number; pending: number } {
    return {
      profiles: this.profiles.size,
      counters: this.counters.size,
      claims: this.claims.size,
      pending: this.pending.size,
    };
  }

  async getPending(id: string, now: number): Promise<PendingDecision | undefined> {
    this.assertOpen();
    const e = this.pending.get(id);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.pending.delete(id);
      this.journal?.expired("pending", id, now);
      return undefined;
    }
    return e.value;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The profile `key` writes go to, created (and the LRU bound applied) on first write. */
  private profileFor(key: string, j: StateJournal | undefined): Profile {
    let p = this.profiles.get(key);
    if (!p) {
      p = emptyProfile();
      this.profiles.set(key, p);
      bound(this.profiles, this.maxProfiles, "profile", j);
    }
    return p;
  }

  private counter(key: string, windowMs: number, j?: StateJournal): Counter {
    let c = this.counters.get(key);
    if (!c) {
      c = { buckets: new Map(), distinct: new Map(), windowMs };
      this.counters.set(key, c);
      bound(this.counters, this.maxEntries, "counter", j);
    }
    return c;
  }

  private readCounter(key: string, windowMs: number, now: number, withDistinct: boolean): CounterRead {
    const c = this.counters.get(key);
    if (!c) return { count: 0, distinct: 0 };
    const oldest = oldestBucket(now, windowMs);
    const newest = bucketOf(now, windowMs);
    let count = 0;
    for (const [b, n] of c.buckets) if (b >= oldest && b <= newest) count += n;
    let distinct = 0;
    if (withDistinct && c.distinct.size > 0) {
      // One bucket in the window (the common case for short bursts): its size is the answer.
      let only: Set<string> | undefined;
      let inWindow = 0;
      for (const [b, s] of c.distinct) {
        if (b >= oldest && b <= newest) {
          inWindow++;
          only = s;
        }
      }
      if (inWindow === 1 && only) distinct = only.size;
      else if (inWindow > 1) {
        const members = new Set<string>();
        for (const [b, s] of c.distinct) if (b >= oldest && b <= newest) for (const m of s) members.add(m);
        distinct = members.size;
      }
    }
    return { count, distinct };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("state store is closed");
  }
}

function prune(c: Counter, now: number): void {
  const oldest = oldestBucket(now, c.windowMs);
  for (const b of c.buckets.keys()) if (b < oldest) c.buckets.delete(b);
  for (const b of c.distinct.keys()) if (b < oldest) c.distinct.delete(b);
}

/** The newest bucket a counter holds a count or a member in. */
function newestBucket(c: Counter): number {
  let newest = Number.NEGATIVE_INFINITY;
  for (const b of c.buckets.keys()) if (b > newest) newest = b;
  for (const b of c.distinct.keys()) if (b > newest) newest = b;
  return newest;
}

/**
 * Drops the oldest-inserted entries of a map beyond `max` (maps iterate in insertion order), and
 * tells the journal, if any, so their rows go too.
 */
function bound<V>(map: Map<string, V>, max: number, kind: DroppedKind, journal: StateJournal | undefined): void {
  while (map.size > max) {
    const first = map.keys().next();
    if (first.done) return;
    map.delete(first.value);
    journal?.dropped(kind, first.value);
  }
}
