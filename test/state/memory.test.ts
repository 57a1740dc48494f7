/** Runs the state conformance suite against the in-memory adapter, and checks its journal of row changes. */

import { describe, expect, it } from "vitest";
import type { JsonObject, JsonValue } from "../../src/model/request.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import type { PendingDecision, SeenStats } from "../../src/state/port.js";
import type { DroppedKind, ExpiringKind, StateJournal } from "../../src/state/state-journal.js";
import { runStateConformance } from "./conformance.js";

runStateConformance("memory", async () => new MemoryStateStore(), undefined, {
  liveSnapshots:
    "the memory adapter returns its live profiles: a decision may see learning committed after its read, which no detector depends on, and copying the population profiles on every read cost more than the rest of the decision",
});

const T0 = 1_700_000_000_000;

/** A journal that records every call, as `[method, ...arguments]`, stats copied at the time of the call. */
class RecordingJournal implements StateJournal {
  readonly calls: unknown[][] = [];
  touched(profile: string, now: number): void {
    this.calls.push(["touched", profile, now]);
  }
  seen(profile: string, field: string, value: string, stats: SeenStats): void {
    this.calls.push(["seen", profile, field, value, { ...stats }]);
  }
  evicted(profile: string, field: string, value: string): void {
    this.calls.push(["evicted", profile, field, value]);
  }
  valueSet(profile: string, field: string, value: JsonValue): void {
    this.calls.push(["valueSet", profile, field, value]);
  }
  counted(counter: string, bucket: number, total: number, windowMs: number): void {
    this.calls.push(["counted", counter, bucket, total, windowMs]);
  }
  memberAdded(counter: string, bucket: number, member: string, windowMs: number): void {
    this.calls.push(["memberAdded", counter, bucket, member, windowMs]);
  }
  claimed(key: string, holder: JsonObject, expiresAt: number): void {
    this.calls.push(["claimed", key, holder, expiresAt]);
  }
  pendingStored(id: string, record: PendingDecision, expiresAt: number): void {
    this.calls.push(["pendingStored", id, record.subject, expiresAt]);
  }
  dropped(kind: DroppedKind, key: string): void {
    this.calls.push(["dropped", kind, key]);
  }
  expired(kind: ExpiringKind, key: string, now: number): void {
    this.calls.push(["expired", kind, key, now]);
  }
}

describe("memory state journal", () => {
  it("reports each update type as row changes with their final values", () => {
    const journal = new RecordingJournal();
    const store = new MemoryStateStore({ journal });
    store.writeSync(
      [
        { op: "see", profile: "user:a", field: "devices", value: "d1", at: T0, cap: 2 },
        { op: "see", profile: "user:a", field: "devices", value: "d1", at: T0 + 5, cap: 2 },
        { op: "set", profile: "user:a", field: "last", value: { lat: 1 } },
        { op: "incr", counter: "c", at: T0, by: 2, windowMs: 10_000 },
        { op: "incr", counter: "c", at: T0, by: 3, windowMs: 10_000 },
        { op: "distinct", counter: "c", member: "m", at: T0, windowMs: 10_000 },
        { op: "distinct", counter: "c", member: "m", at: T0, windowMs: 10_000 },
        {
          op: "pending",
          id: "dec-1",
          record: { subject: "user:a", controlPath: "hold", at: T0, learn: [] },
          ttlMs: 60,
        },
      ],
      T0 + 5,
    );
    const bucket = T0 / 1_000;
    expect(journal.calls).toEqual([
      ["touched", "user:a", T0 + 5],
      ["seen", "user:a", "devices", "d1", { n: 1, first: T0, last: T0 }],
      ["touched", "user:a", T0 + 5],
      ["seen", "user:a", "devices", "d1", { n: 2, first: T0, last: T0 + 5 }],
      ["touched", "user:a", T0 + 5],
      ["valueSet", "user:a", "last", { lat: 1 }],
      ["counted", "c", bucket, 2, 10_000],
      ["counted", "c", bucket, 5, 10_000],
      // a member already in its bucket is no change
      ["memberAdded", "c", bucket, "m", 10_000],
      ["pendingStored", "dec-1", "user:a", T0 + 60],
    ]);
  });

  it("reports values evicted by a field's cap", () => {
    const journal = new RecordingJournal();
    const store = new MemoryStateStore({ journal });
    store.writeSync(
      ["a", "b", "c"].map((value, i) => ({ op: "see", profile: "user:b", field: "ips", value, at: T0 + i, cap: 2 })),
      T0,
    );
    expect(journal.calls.filter((c) => c[0] === "evicted")).toEqual([["evicted", "user:b", "ips", "a"]]);
  });

  it("never reports `__proto__`, which is never learned", () => {
    const journal = new RecordingJournal();
    const store = new MemoryStateStore({ journal });
    store.writeSync(
      [
        { op: "see", profile: "user:m", field: "__proto__", value: "x", at: T0, cap: 2 },
        { op: "see", profile: "user:m", field: "devices", value: "__proto__", at: T0, cap: 2 },
        { op: "set", profile: "user:m", field: "__proto__", value: 1 },
      ],
      T0,
    );
    expect(journal.calls.filter((c) => c[0] !== "touched")).toEqual([]);
  });

  it("reports a won claim, not a lost one", () => {
    const journal = new RecordingJournal();
    const store = new MemoryStateStore({ journal });
    const claim = (who: string) => ({
      profiles: [],
      counters: [],
      claims: [{ key: "k", holder: { who }, ttlMs: 100 }],
    });
    store.readSync(claim("x"), T0);
    store.readSync(claim("y"), T0 + 1);
    expect(journal.calls).toEqual([["claimed", "k", { who: "x" }, T0 + 100]]);
  });

  it("reports entries the LRU bounds drop, and expired entries it drops", async () => {
    const journal = new RecordingJournal();
    const store = new MemoryStateStore({ journal, maxProfiles: 1, maxEntries: 1, maxPending: 1 });
    store.writeSync([{ op: "set", profile: "user:1", field: "f", value: 1 }], T0);
    store.writeSync([{ op: "set", profile: "user:2", field: "f", value: 1 }], T0);
    store.writeSync([{ op: "incr", counter: "c1", at: T0, by: 1, windowMs: 1_000 }], T0);
    store.writeSync([{ op: "incr", counter: "c2", at: T0, by: 1, windowMs: 1_000 }], T0);
    store.readSync({ profiles: [], counters: [], claims: [{ key: "k1", holder: {}, ttlMs: 10 }] }, T0);
    store.readSync({ profiles: [], counters: [], claims: [{ key: "k2", holder: {}, ttlMs: 10 }] }, T0);
    const record = { subject: "user:1", controlPath: "hold" as const, at: T0, learn: [] };
    store.writeSync([{ op: "pending", id: "p1", record, ttlMs: 10 }], T0);
    store.writeSync([{ op: "pending", id: "p2", record, ttlMs: 10 }], T0);
    expect(journal.calls.filter((c) => c[0] === "dropped")).toEqual([
      ["dropped", "profile", "user:1"],
      ["dropped", "counter", "c1"],
      ["dropped", "claim", "k1"],
      ["dropped", "pending", "p1"],
    ]);
    journal.calls.length = 0;
    expect(store.expire("claim", "k2", T0 + 9)).toBe(false);
    expect(store.expire("claim", "k2", T0 + 10)).toBe(true);
    expect(store.expire("counter", "c2", T0 + 1_000)).toBe(false);
    expect(store.expire("counter", "c2", T0 + 1_100)).toBe(true);
    expect(await store.getPending("p2", T0 + 10)).toBeUndefined();
    expect(store.dropProfile("user:2")).toBe(true);
    expect(journal.calls).toEqual([
      ["expired", "claim", "k2", T0 + 10],
      ["expired", "counter", "c2", T0 + 1_100],
      ["expired", "pending", "p2", T0 + 10],
      ["dropped", "profile", "user:2"],
    ]);
  });
});

describe("pending decisions in memory", () => {
  const record = (at: number): PendingDecision => ({ subject: "user:a", controlPath: "step_up", at, learn: [] });

  it("keeps at most maxPending, dropping the oldest", async () => {
    const store = new MemoryStateStore({ maxPending: 3 });
    for (let i = 0; i < 5; i++) {
      store.writeSync([{ op: "pending", id: `d${i}`, record: record(T0 + i), ttlMs: 60_000 }], T0 + i);
    }
    expect(store.sizes().pending).toBe(3);
    expect(await store.getPending("d0", T0 + 10)).toBeUndefined();
    expect(await store.getPending("d1", T0 + 10)).toBeUndefined();
    expect((await store.getPending("d4", T0 + 10))?.at).toBe(T0 + 4);
  });

  it("sweeps expired records from the oldest end when a new one is stored, and journals them", async () => {
    const journal = new RecordingJournal();
    const store = new MemoryStateStore({ journal });
    store.writeSync([{ op: "pending", id: "old", record: record(T0), ttlMs: 1_000 }], T0);
    store.writeSync([{ op: "pending", id: "live", record: record(T0 + 500), ttlMs: 60_000 }], T0 + 500);
    expect(store.sizes().pending).toBe(2);
    store.writeSync([{ op: "pending", id: "new", record: record(T0 + 2_000), ttlMs: 60_000 }], T0 + 2_000);
    expect(store.sizes().pending).toBe(2);
    expect(journal.calls).toContainEqual(["expired", "pending", "old", T0 + 2_000]);
    expect(await store.getPending("live", T0 + 2_000)).toBeDefined();
  });
});
