/** The in-memory state adapter: one process, nothing kept across restarts; the reference adapter. */

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
import { applyToProfile } from "./profile-ops.js";

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
  /** Most counters, claims and pending decisions kept, each. Default 1,000,000. */
  maxEntries?: number;
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
  private closed = false;

  constructor(options: MemoryStateOptions = {}) {
    this.maxProfiles = options.maxProfiles ?? 1_000_000;
    this.maxEntries = options.maxEntries ?? 1_000_000;
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
      counters.set(spec.key, this.readCounter(spec.key, spec.windowMs, now));
    }
    const claims = new Map<string, ClaimRead>();
    for (const spec of query.claims) {
      const existing = this.claims.get(spec.key);
      if (existing && existing.expiresAt > now) {
        claims.set(spec.key, { first: existing.value, won: false });
      } else {
        this.claims.set(spec.key, { value: spec.holder, expiresAt: now + spec.ttlMs });
        bound(this.claims, this.maxEntries);
        claims.set(spec.key, { first: spec.holder, won: true });
      }
    }
    return { profiles, counters, claims };
  }

  async write(updates: readonly StateUpdate[], now: number): Promise<void> {
    this.assertOpen();
    this.writeSync(updates, now);
  }

  writeSync(updates: readonly StateUpdate[], _now: number): void {
    for (const u of updates) {
      switch (u.op) {
        case "see":
        case "set": {
          let p = this.profiles.get(u.profile);
          if (!p) {
            p = emptyProfile();
            this.profiles.set(u.profile, p);
            bound(this.profiles, this.maxProfiles);
          }
          applyToProfile(p, u);
          break;
        }
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
          bound(this.pending, this.maxEntries);
          break;
      }
    }
  }

  async getPending(id: string, now: number): Promise<PendingDecision | undefined> {
    this.assertOpen();
    const e = this.pending.get(id);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.pending.delete(id);
      return undefined;
    }
    return e.value;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private counter(key: string, windowMs: number): Counter {
    let c = this.counters.get(key);
    if (!c) {
      c = { buckets: new Map(), distinct: new Map(), windowMs };
      this.counters.set(key, c);
      bound(this.counters, this.maxEntries);
    }
    return c;
  }

  private readCounter(key: string, windowMs: number, now: number): CounterRead {
    const c = this.counters.get(key);
    if (!c) return { count: 0, distinct: 0 };
    const oldest = oldestBucket(now, windowMs);
    const newest = bucketOf(now, windowMs);
    let count = 0;
    for (const [b, n] of c.buckets) if (b >= oldest && b <= newest) count += n;
    let distinct = 0;
    if (c.distinct.size > 0) {
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

/** Drops the oldest-inserted entries of a map beyond `max` (maps iterate in insertion order). */
function bound<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) {
    const first = map.keys().next();
    if (first.done) return;
    map.delete(first.value);
  }
}
