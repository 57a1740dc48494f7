/**
 * Detectors must not change the state they read (ADR 0006). On the memory and SQLite adapters, and
 * with the Redis adapter's profile copies, a snapshot's profiles are the store's own objects: a
 * detector that changed one would change what every later decision reads, and on Redis a node's
 * copy would keep the change. The type system marks snapshots read-only only in part (a `Profile`
 * is a plain object), so this checks it mechanically: every shipped detector (the default policy)
 * runs over the simulator's traffic on snapshots whose profiles, counters and claims are frozen
 * copies. A detector that writes to one throws (modules are strict code), which the engine reports
 * as a detector error; there must be none, and every decision must equal the one made on the
 * store's live snapshots.
 */

import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/create-engine.js";
import type { Decision } from "../../src/model/decision.js";
import { loadPolicy } from "../../src/policy/load.js";
import { simulate } from "../../src/simulate/simulate.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import type { PendingDecision, StateQuery, StateSnapshot, StateStore, StateUpdate } from "../../src/state/port.js";
import { REPO_ROOT } from "../server/support.js";

/** A map whose entries can no longer be added, replaced or removed once built. */
class FrozenMap<K, V> extends Map<K, V> {
  private readonly sealed: boolean;
  constructor(entries: Iterable<readonly [K, V]>) {
    super(entries);
    this.sealed = true;
  }
  override set(key: K, value: V): this {
    if (this.sealed) throw new TypeError(`a snapshot's map was written (key ${String(key)})`);
    return super.set(key, value);
  }
  override delete(key: K): boolean {
    throw new TypeError(`a snapshot's map was written (delete ${String(key)})`);
  }
  override clear(): void {
    throw new TypeError("a snapshot's map was cleared");
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function frozen<V>(map: ReadonlyMap<string, V>): ReadonlyMap<string, V> {
  return new FrozenMap([...map].map(([key, value]) => [key, deepFreeze(structuredClone(value))] as const));
}

/** The memory store, handing out frozen copies of what it read instead of its own objects. */
class FrozenSnapshots implements StateStore {
  readonly kind = "memory";
  readonly synchronous = true;
  reads = 0;

  constructor(private readonly inner: MemoryStateStore) {}

  async read(query: StateQuery, now: number): Promise<StateSnapshot> {
    this.reads++;
    const live = await this.inner.read(query, now);
    return { profiles: frozen(live.profiles), counters: frozen(live.counters), claims: frozen(live.claims) };
  }

  write(updates: readonly StateUpdate[], now: number): Promise<void> {
    return this.inner.write(updates, now);
  }

  getPending(id: string, now: number): Promise<PendingDecision | undefined> {
    return this.inner.getPending(id, now);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** What must not differ between the two runs (ids and timings do). */
const gist = (d: Decision) => ({
  controlPath: d.controlPath,
  segment: d.segment,
  score: d.score,
  reasons: d.reasons.map((r) => r.code),
  findings: d.findings.map((f) => [f.detector, f.code, f.contribution]),
  errors: d.errors,
});

describe("detectors and the snapshots they read", () => {
  it("never write to a snapshot: frozen snapshots give no detector error and the same decisions", async () => {
    const policy = await loadPolicy(resolve(REPO_ROOT, "policies/default.yaml"));
    const sim = simulate({ seed: 11, days: 6, warmupDays: 1 });
    const detectorErrors: string[] = [];
    const store = new FrozenSnapshots(new MemoryStateStore());
    const frozenEngine = createEngine({
      policy,
      eventTime: "request",
      state: store,
      observer: { onDetectorError: (detector, segment) => detectorErrors.push(`${detector} in ${segment}`) },
    });
    const liveEngine = createEngine({ policy, eventTime: "request", state: new MemoryStateStore() });
    let compared = 0;
    let flagged = 0;
    for (const event of sim.events) {
      const onFrozen = await frozenEngine.decide(event.request);
      const onLive = await liveEngine.decide(event.request);
      expect(gist(onFrozen), `request ${compared} (${event.label.actor})`).toEqual(gist(onLive));
      compared++;
      if (onLive.findings.length > 0) flagged++;
    }
    expect(detectorErrors).toEqual([]);
    // The traffic exercised the detectors: thousands of reads, many decisions with findings.
    expect(compared).toBeGreaterThan(1000);
    expect(store.reads).toBeGreaterThan(1000);
    expect(flagged).toBeGreaterThan(50);
    await frozenEngine.close();
    await liveEngine.close();
  }, 60_000);
});
