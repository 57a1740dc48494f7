/**
 * Two Redis state adapters standing for two decision nodes on one Redis and one key prefix, as one
 * `StateStore` for the conformance suite: calls alternate between the two, so each node's profile
 * copies keep meeting the other node's writes. Every profile a read returns, through either node,
 * must equal what a fresh adapter without copies reads from Redis at that moment; a difference fails
 * the read with the assertion.
 *
 * The pair hands out copies of the profiles its nodes return. A node hands out its live copies
 * (ADR 0018), so whether a snapshot shows a later write depends on which node served the read and
 * which took the write; the single-node run of the suite checks that behaviour, this one checks
 * that the nodes agree with Redis.
 */

import { expect } from "vitest";
import type { PendingDecision, StateQuery, StateSnapshot, StateStore, StateUpdate } from "../../src/state/port.js";
import { RedisStateStore } from "../../src/state/redis.js";

export class AlternatingRedisPair implements StateStore {
  readonly kind = "redis";
  /** Reads whose profiles were compared with the uncached adapter's. */
  compared = 0;
  private reads = 0;
  private writes = 0;
  private pendings = 0;

  private constructor(
    readonly nodes: readonly [RedisStateStore, RedisStateStore],
    private readonly reference: RedisStateStore,
  ) {}

  /**
   * Opens both nodes (with profile copies) and the reference (without). Population copies are off,
   * so every profile a read returns must be exactly what Redis holds.
   */
  static async open(url: string, keyPrefix: string): Promise<AlternatingRedisPair> {
    const node = () => new RedisStateStore({ url, keyPrefix, populationRefreshMs: 0 });
    const pair = new AlternatingRedisPair(
      [node(), node()],
      new RedisStateStore({ url, keyPrefix, populationRefreshMs: 0, profileCacheSize: 0 }),
    );
    for (const s of [...pair.nodes, pair.reference]) await s.ready();
    return pair;
  }

  async read(query: StateQuery, now: number): Promise<StateSnapshot> {
    const snapshot = await this.next(this.reads++).read(query, now);
    if (query.profiles.length > 0) {
      const fresh = await this.reference.read({ profiles: query.profiles, counters: [], claims: [] }, now);
      for (const key of query.profiles) {
        expect(snapshot.profiles.get(key), `profile ${key} read through a node`).toEqual(fresh.profiles.get(key));
      }
      this.compared++;
    }
    return { ...snapshot, profiles: structuredClone(snapshot.profiles) };
  }

  write(updates: readonly StateUpdate[], now: number): Promise<void> {
    return this.next(this.writes++).write(updates, now);
  }

  getPending(id: string, now: number): Promise<PendingDecision | undefined> {
    return this.next(this.pendings++).getPending(id, now);
  }

  async close(): Promise<void> {
    for (const s of [...this.nodes, this.reference]) await s.close();
  }

  private next(call: number): RedisStateStore {
    return this.nodes[call % 2] as RedisStateStore;
  }
}
