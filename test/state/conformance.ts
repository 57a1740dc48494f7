/** The one state conformance suite: every clause of the state port contract, run against each adapter. */

import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JsonObject, JsonValue } from "../../src/model/request.js";
import { COUNTER_BUCKETS, type PendingDecision, type StateStore, type StateUpdate } from "../../src/state/port.js";

export interface ConformanceOptions {
  /** The adapter counts distinct members approximately (e.g. HyperLogLog): large sets within ±5%. */
  approximateDistinct?: boolean;
  /**
   * Why the adapter hands out live profiles instead of isolated snapshots (the in-process memory
   * adapter: copying the large population profiles cost more than the whole decision). The suite
   * then checks that documented behaviour instead of isolation.
   */
  liveSnapshots?: string;
  /**
   * For an adapter that keeps state across a restart: opens a new store over the same data as the
   * given (already closed) one. The suite then checks that learned state survives the restart.
   */
  restart?: (closed: StateStore) => Promise<StateStore>;
}

/** A bucket-aligned epoch ms (2023-11-14T22:13:20Z), far from the wall clock of any test run. */
const T0 = 1_700_000_000_000;
/** A window whose buckets are one second long. */
const WINDOW = 10_000;
const BUCKET = WINDOW / COUNTER_BUCKETS;

/** A `see` update (cap 10 unless given); shared by the adapter-specific state tests. */
export const see = (
  profile: string,
  field: string,
  value: string,
  at: number,
  cap = 10,
): Extract<StateUpdate, { op: "see" }> => ({
  op: "see",
  profile,
  field,
  value,
  at,
  cap,
});
const incr = (counter: string, at: number, by = 1, windowMs = WINDOW): StateUpdate => ({
  op: "incr",
  counter,
  at,
  by,
  windowMs,
});
const distinct = (counter: string, member: string, at: number, windowMs = WINDOW): StateUpdate => ({
  op: "distinct",
  counter,
  member,
  at,
  windowMs,
});
const counterQuery = (key: string, windowMs = WINDOW, distinct = true) => ({
  profiles: [],
  counters: [{ key, windowMs, distinct }],
  claims: [],
});
const claimQuery = (key: string, holder: JsonObject, ttlMs: number) => ({
  profiles: [],
  counters: [],
  claims: [{ key, holder, ttlMs }],
});

function pendingRecord(at: number, extra: Partial<PendingDecision> = {}): PendingDecision {
  return {
    subject: "user:alice",
    controlPath: "step_up",
    at,
    learn: [see("user:alice", "devices", "d-new", at, 20)],
    ...extra,
  };
}

export function runStateConformance(
  name: string,
  makeStore: () => Promise<StateStore>,
  cleanup?: () => Promise<void>,
  options: ConformanceOptions = {},
): void {
  describe(`state conformance: ${name}`, () => {
    let store: StateStore;

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });
    if (cleanup) afterAll(cleanup);

    const counterAt = async (key: string, now: number, windowMs = WINDOW) => {
      const snap = await store.read(counterQuery(key, windowMs), now);
      return snap.counters.get(key);
    };

    describe("empty reads", () => {
      it("returns an entry for every requested key, empty when absent", async () => {
        const snap = await store.read(
          {
            profiles: ["user:nobody", "global:login"],
            counters: [
              { key: "user:nobody:fails", windowMs: WINDOW },
              { key: "ip:10.0.0.1:logins", windowMs: 3_600_000 },
            ],
            claims: [],
          },
          T0,
        );
        expect([...snap.profiles.keys()].sort()).toEqual(["global:login", "user:nobody"]);
        expect(snap.profiles.get("user:nobody")).toEqual({ sets: {}, values: {} });
        expect(snap.profiles.get("global:login")).toEqual({ sets: {}, values: {} });
        expect(snap.counters.get("user:nobody:fails")).toEqual({ count: 0, distinct: 0 });
        expect(snap.counters.get("ip:10.0.0.1:logins")).toEqual({ count: 0, distinct: 0 });
        expect(snap.claims.size).toBe(0);
      });

      it("answers an empty query with empty maps", async () => {
        const snap = await store.read({ profiles: [], counters: [], claims: [] }, T0);
        expect(snap.profiles.size + snap.counters.size + snap.claims.size).toBe(0);
      });

      it("accepts an empty write", async () => {
        await store.write([], T0);
        expect(
          (await store.read({ profiles: ["user:a"], counters: [], claims: [] }, T0)).profiles.get("user:a"),
        ).toEqual({ sets: {}, values: {} });
      });

      it("has no pending decision for an unknown id", async () => {
        expect(await store.getPending("dec-unknown", T0)).toBeUndefined();
      });
    });

    describe("profiles", () => {
      it("never learns `__proto__` (a value from a request) and never pollutes Object.prototype", async () => {
        const hostile = [
          see("user:mallory", "devices", "d1", T0),
          see("user:mallory", "devices", "__proto__", T0 + 1),
          see("user:mallory", "devices", "__proto__", T0 + 2),
          see("user:mallory", "__proto__", "x", T0),
          { op: "set", profile: "user:mallory", field: "__proto__", value: { polluted: true } } as StateUpdate,
        ];
        await store.write(hostile, T0 + 2);
        const p = (await store.read({ profiles: ["user:mallory"], counters: [], claims: [] }, T0 + 3)).profiles.get(
          "user:mallory",
        );
        expect(Object.keys(p?.sets.devices ?? {})).toEqual(["d1"]);
        expect(Object.hasOwn(p?.sets ?? {}, "__proto__")).toBe(false);
        expect(Object.hasOwn(p?.values ?? {}, "__proto__")).toBe(false);
        const probe: Record<string, unknown> = {};
        expect([probe.n, probe.last, probe.first, probe.polluted]).toEqual([
          undefined,
          undefined,
          undefined,
          undefined,
        ]);
      });

      it("keeps seen stats: count, first and last time", async () => {
        await store.write(
          [see("user:alice", "devices", "d1", T0 + 100), see("user:alice", "devices", "d1", T0 + 300)],
          T0,
        );
        await store.write([see("user:alice", "devices", "d1", T0 + 200), see("user:alice", "countries", "FR", T0)], T0);
        const p = (await store.read({ profiles: ["user:alice"], counters: [], claims: [] }, T0 + 400)).profiles.get(
          "user:alice",
        );
        expect(p?.sets.devices).toEqual({ d1: { n: 3, first: T0 + 100, last: T0 + 300 } });
        expect(p?.sets.countries).toEqual({ FR: { n: 1, first: T0, last: T0 } });
        expect(p?.values).toEqual({});
      });

      it("evicts the least recently seen value beyond the cap", async () => {
        await store.write(
          [
            see("user:bob", "ips", "a", T0 + 1, 3),
            see("user:bob", "ips", "b", T0 + 2, 3),
            see("user:bob", "ips", "c", T0 + 3, 3),
            see("user:bob", "ips", "a", T0 + 4, 3),
          ],
          T0 + 4,
        );
        // a separate write, so eviction must work on what was stored, not only within one batch
        await store.write([see("user:bob", "ips", "d", T0 + 5, 3)], T0 + 5);
        const p = (await store.read({ profiles: ["user:bob"], counters: [], claims: [] }, T0 + 5)).profiles.get(
          "user:bob",
        );
        expect(Object.keys(p?.sets.ips ?? {}).sort()).toEqual(["a", "c", "d"]);
        expect(p?.sets.ips?.a).toEqual({ n: 2, first: T0 + 1, last: T0 + 4 });
        await store.write([see("user:bob", "ips", "e", T0 + 6, 3), see("user:bob", "ips", "f", T0 + 7, 3)], T0 + 7);
        const q = (await store.read({ profiles: ["user:bob"], counters: [], claims: [] }, T0 + 7)).profiles.get(
          "user:bob",
        );
        expect(Object.keys(q?.sets.ips ?? {}).sort()).toEqual(["d", "e", "f"]);
      });

      it("breaks ties between values last seen at the same time by their UTF-8 bytes, as Redis orders them", async () => {
        const ips = async (now: number) =>
          Object.keys(
            (await store.read({ profiles: ["user:tia"], counters: [], claims: [] }, now)).profiles.get("user:tia")?.sets
              .ips ?? {},
          ).sort();
        // U+1F600 (UTF-8 F0 9F 98 80) is written first and sorts first in UTF-16 (D83D); U+FF21 (EF BC A1)
        // comes first in bytes, so it is the one evicted.
        await store.write([see("user:tia", "ips", "\u{1F600}", T0, 3), see("user:tia", "ips", "\uFF21", T0, 3)], T0);
        await store.write([see("user:tia", "ips", "z", T0 + 1, 3)], T0 + 1);
        await store.write([see("user:tia", "ips", "new", T0 + 2, 3)], T0 + 2);
        expect(await ips(T0 + 2)).toEqual(["new", "z", "\u{1F600}"].sort());
      });

      it("evicts several tied values at once in byte order when a lower cap applies", async () => {
        await store.write(
          ["d", "c", "b", "a"].map((v) => see("user:tom", "ips", v, T0, 4)),
          T0,
        );
        await store.write([see("user:tom", "ips", "e", T0 + 1, 2)], T0 + 1);
        const p = (await store.read({ profiles: ["user:tom"], counters: [], claims: [] }, T0 + 1)).profiles.get(
          "user:tom",
        );
        expect(Object.keys(p?.sets.ips ?? {}).sort()).toEqual(["d", "e"]);
      });

      it("caps each field on its own", async () => {
        const updates: StateUpdate[] = [];
        for (let i = 0; i < 5; i++) updates.push(see("user:carol", "hours", `h${i}`, T0 + i, 2));
        updates.push(see("user:carol", "devices", "only", T0, 2));
        await store.write(updates, T0 + 5);
        const p = (await store.read({ profiles: ["user:carol"], counters: [], claims: [] }, T0 + 5)).profiles.get(
          "user:carol",
        );
        expect(Object.keys(p?.sets.hours ?? {}).sort()).toEqual(["h3", "h4"]);
        expect(Object.keys(p?.sets.devices ?? {})).toEqual(["only"]);
      });

      it("sets scalar values of any JSON shape, replacing earlier ones", async () => {
        const location: JsonValue = {
          lat: 48.8566,
          lon: 2.3522,
          at: T0,
          tags: [],
          nested: { empty: {}, list: [1, "x"] },
        };
        await store.write(
          [
            { op: "set", profile: "user:dave", field: "last_location", value: location },
            { op: "set", profile: "user:dave", field: "rate_ewma", value: 1 },
            { op: "set", profile: "user:dave", field: "flag", value: true },
            { op: "set", profile: "user:dave", field: "nothing", value: null },
            { op: "set", profile: "user:dave", field: "label", value: "héllo {x}: \u00e9\u4e2d" },
          ],
          T0,
        );
        await store.write(
          [{ op: "set", profile: "user:dave", field: "rate_ewma", value: 0.12345678901234566 }],
          T0 + 1,
        );
        const p = (await store.read({ profiles: ["user:dave"], counters: [], claims: [] }, T0 + 1)).profiles.get(
          "user:dave",
        );
        expect(p?.values).toEqual({
          last_location: location,
          rate_ewma: 0.12345678901234566,
          flag: true,
          nothing: null,
          label: "héllo {x}: \u00e9\u4e2d",
        });
        expect(p?.sets).toEqual({});
      });

      it("keeps profiles apart, whatever characters their keys and values hold", async () => {
        const odd = "workload:spiffe://example.org/ns/{prod}/sa:api";
        await store.write(
          [
            see(odd, "tokens", "jti:{1}|x", T0),
            see("user:erin", "tokens", "t", T0),
            { op: "set", profile: odd, field: "owner", value: "team-a" },
          ],
          T0,
        );
        const snap = await store.read({ profiles: [odd, "user:erin", "user:erin2"], counters: [], claims: [] }, T0);
        expect(snap.profiles.get(odd)).toEqual({
          sets: { tokens: { "jti:{1}|x": { n: 1, first: T0, last: T0 } } },
          values: { owner: "team-a" },
        });
        expect(snap.profiles.get("user:erin")?.sets.tokens).toEqual({ t: { n: 1, first: T0, last: T0 } });
        expect(snap.profiles.get("user:erin2")).toEqual({ sets: {}, values: {} });
      });

      it("returns a snapshot that later writes do not change (or, for a live-snapshot adapter, that they do)", async () => {
        await store.write([see("user:frank", "devices", "d1", T0)], T0);
        const snap = await store.read({ profiles: ["user:frank"], counters: [], claims: [] }, T0);
        // read again: an adapter that keeps copies serves this one from its copy
        const again = await store.read({ profiles: ["user:frank"], counters: [], claims: [] }, T0);
        await store.write([see("user:frank", "devices", "d2", T0 + 1)], T0 + 1);
        for (const s of [snap, again]) {
          const seen = Object.keys(s.profiles.get("user:frank")?.sets.devices ?? {});
          expect(seen).toEqual(options.liveSnapshots === undefined ? ["d1"] : ["d1", "d2"]);
        }
        if (options.liveSnapshots === undefined) {
          expect(again.profiles.get("user:frank")?.sets.devices?.d1).toEqual({ n: 1, first: T0, last: T0 });
        }
      });

      it("reads every write of a profile when reads and writes of it interleave", async () => {
        const read = async (now: number) =>
          (await store.read({ profiles: ["user:ivy"], counters: [], claims: [] }, now)).profiles.get("user:ivy");
        const set = (field: string, value: JsonValue): StateUpdate => ({
          op: "set",
          profile: "user:ivy",
          field,
          value,
        });
        expect(await read(T0)).toEqual({ sets: {}, values: {} });
        await store.write([see("user:ivy", "devices", "d1", T0, 2), set("n", 1)], T0);
        expect(await read(T0 + 1)).toEqual({
          sets: { devices: { d1: { n: 1, first: T0, last: T0 } } },
          values: { n: 1 },
        });
        expect(await read(T0 + 2)).toEqual({
          sets: { devices: { d1: { n: 1, first: T0, last: T0 } } },
          values: { n: 1 },
        });
        await store.write(
          [see("user:ivy", "devices", "d1", T0 + 5, 2), see("user:ivy", "devices", "d1", T0 - 5, 2)],
          T0,
        );
        await store.write(
          [see("user:ivy", "devices", "d2", T0 + 6, 2), set("n", { at: T0 + 6, list: [1.5, "x"] })],
          T0,
        );
        expect(await read(T0 + 6)).toEqual({
          sets: { devices: { d1: { n: 3, first: T0 - 5, last: T0 + 5 }, d2: { n: 1, first: T0 + 6, last: T0 + 6 } } },
          values: { n: { at: T0 + 6, list: [1.5, "x"] } },
        });
        // over the cap: the least recently seen value goes
        await store.write([see("user:ivy", "devices", "d3", T0 + 7, 2)], T0 + 7);
        expect(Object.keys((await read(T0 + 7))?.sets.devices ?? {}).sort()).toEqual(["d2", "d3"]);
        // several writes at once (one coalesced call where an adapter coalesces), applied in call order
        await Promise.all([
          store.write([see("user:ivy", "devices", "d3", T0 + 8, 2), set("n", 2)], T0 + 8),
          store.write([set("n", 3), see("user:ivy", "hours", "h1", T0 + 9, 5)], T0 + 9),
          store.write([see("user:ivy", "hours", "h1", T0 + 10, 5), set("m", null)], T0 + 10),
        ]);
        expect(await read(T0 + 10)).toEqual({
          sets: {
            devices: { d2: { n: 1, first: T0 + 6, last: T0 + 6 }, d3: { n: 2, first: T0 + 7, last: T0 + 8 } },
            hours: { h1: { n: 2, first: T0 + 9, last: T0 + 10 } },
          },
          values: { n: 3, m: null },
        });
      });
    });

    describe("counters", () => {
      it("sums increments inside the window", async () => {
        await store.write([incr("user:alice:fails", T0), incr("user:alice:fails", T0 + 2_500, 2)], T0 + 2_500);
        await store.write(
          [incr("user:alice:fails", T0 + 5_000, 3), incr("user:other:fails", T0 + 5_000, 7)],
          T0 + 5_000,
        );
        expect(await counterAt("user:alice:fails", T0 + 5_000)).toEqual({ count: 6, distinct: 0 });
        expect(await counterAt("user:other:fails", T0 + 5_000)).toEqual({ count: 7, distinct: 0 });
      });

      it("drops an event once its bucket leaves the window, at most one bucket late", async () => {
        await store.write([incr("c:edge", T0 + 500)], T0 + 500);
        // exactly one window later: inside
        expect((await counterAt("c:edge", T0 + 500 + WINDOW))?.count).toBe(1);
        // up to one bucket longer than the window: still counted (bucket granularity)
        expect((await counterAt("c:edge", T0 + WINDOW + BUCKET - 1))?.count).toBe(1);
        // the bucket after that: gone
        expect((await counterAt("c:edge", T0 + WINDOW + BUCKET))?.count).toBe(0);
      });

      it("slides: old buckets fall out while new ones count", async () => {
        for (let i = 0; i < 15; i++) await store.write([incr("c:slide", T0 + i * BUCKET)], T0 + i * BUCKET);
        // at bucket 14 the window holds buckets 4..14
        expect((await counterAt("c:slide", T0 + 14 * BUCKET))?.count).toBe(11);
        expect((await counterAt("c:slide", T0 + 30 * BUCKET))?.count).toBe(0);
      });

      it("does not count events in a later bucket than now", async () => {
        await store.write([incr("c:future", T0 + 3 * BUCKET)], T0 + 3 * BUCKET);
        expect((await counterAt("c:future", T0 + BUCKET))?.count).toBe(0);
        expect((await counterAt("c:future", T0 + 3 * BUCKET + 10))?.count).toBe(1);
      });

      it("honours each counter's own window", async () => {
        const hour = 3_600_000;
        await store.write([incr("c:hourly", T0, 1, hour)], T0);
        expect((await counterAt("c:hourly", T0 + 30 * 60_000, hour))?.count).toBe(1);
        expect((await counterAt("c:hourly", T0 + hour + hour / COUNTER_BUCKETS, hour))?.count).toBe(0);
      });

      it("adds fractional increments", async () => {
        await store.write([incr("c:frac", T0, 0.5), incr("c:frac", T0, 0.25)], T0);
        expect((await counterAt("c:frac", T0))?.count).toBeCloseTo(0.75, 10);
      });
    });

    describe("distinct counts", () => {
      it("counts small sets exactly, once per member across buckets", async () => {
        await store.write(
          [
            distinct("ip:1.2.3.4:users", "alice", T0),
            distinct("ip:1.2.3.4:users", "bob", T0),
            distinct("ip:1.2.3.4:users", "alice", T0 + 3 * BUCKET),
            distinct("ip:1.2.3.4:users", "carol", T0 + 4 * BUCKET),
          ],
          T0 + 4 * BUCKET,
        );
        await store.write([distinct("ip:1.2.3.4:users", "bob", T0 + 5 * BUCKET)], T0 + 5 * BUCKET);
        expect(await counterAt("ip:1.2.3.4:users", T0 + 5 * BUCKET)).toEqual({ count: 0, distinct: 3 });
      });

      it("forgets members whose buckets left the window", async () => {
        await store.write([distinct("c:d", "old", T0), distinct("c:d", "new", T0 + 5 * BUCKET)], T0 + 5 * BUCKET);
        expect((await counterAt("c:d", T0 + WINDOW + BUCKET - 1))?.distinct).toBe(2);
        expect((await counterAt("c:d", T0 + WINDOW + BUCKET))?.distinct).toBe(1);
        expect((await counterAt("c:d", T0 + 5 * BUCKET + WINDOW + BUCKET))?.distinct).toBe(0);
      });

      it("counts distinct members only for a read that asks for them", async () => {
        await store.write([incr("c:asked", T0, 2), distinct("c:asked", "m1", T0), distinct("c:asked", "m2", T0)], T0);
        const read = async (asked: boolean) =>
          (await store.read(counterQuery("c:asked", WINDOW, asked), T0)).counters.get("c:asked");
        expect(await read(false)).toEqual({ count: 2, distinct: 0 });
        expect(await read(true)).toEqual({ count: 2, distinct: 2 });
      });

      it("keeps counts and distinct members of one key side by side", async () => {
        await store.write([incr("c:both", T0, 4), distinct("c:both", "m1", T0), distinct("c:both", "m2", T0)], T0);
        expect(await counterAt("c:both", T0)).toEqual({ count: 4, distinct: 2 });
      });

      it(`counts 1000 members ${options.approximateDistinct ? "within 5%" : "exactly"}`, async () => {
        for (let batch = 0; batch < 10; batch++) {
          const updates: StateUpdate[] = [];
          for (let i = 0; i < 100; i++) {
            const at = T0 + (batch % COUNTER_BUCKETS) * BUCKET;
            updates.push(distinct("c:many", `member-${batch * 100 + i}`, at));
            // repeats must not count twice
            if (i % 10 === 0) updates.push(distinct("c:many", `member-${i}`, at));
          }
          await store.write(updates, T0 + batch * BUCKET);
        }
        const got = (await counterAt("c:many", T0 + 9 * BUCKET))?.distinct ?? 0;
        if (options.approximateDistinct) {
          expect(got).toBeGreaterThanOrEqual(950);
          expect(got).toBeLessThanOrEqual(1050);
        } else {
          expect(got).toBe(1000);
        }
      });
    });

    describe("claims", () => {
      it("lets the first claim win and shows every later caller the first holder", async () => {
        const first = await store.read(claimQuery("token:jti-1", { device: "d1", ip: "10.0.0.1" }, 60_000), T0);
        expect(first.claims.get("token:jti-1")).toEqual({ first: { device: "d1", ip: "10.0.0.1" }, won: true });
        const second = await store.read(claimQuery("token:jti-1", { device: "d2", ip: "10.0.0.2" }, 60_000), T0 + 10);
        expect(second.claims.get("token:jti-1")).toEqual({ first: { device: "d1", ip: "10.0.0.1" }, won: false });
        const third = await store.read(claimQuery("token:jti-1", { device: "d3" }, 60_000), T0 + 59_999);
        expect(third.claims.get("token:jti-1")).toEqual({ first: { device: "d1", ip: "10.0.0.1" }, won: false });
      });

      it("frees a claim once its TTL has passed", async () => {
        await store.read(claimQuery("token:jti-2", { device: "d1" }, 1_000), T0);
        const later = await store.read(claimQuery("token:jti-2", { device: "d2" }, 1_000), T0 + 1_000);
        expect(later.claims.get("token:jti-2")).toEqual({ first: { device: "d2" }, won: true });
        const after = await store.read(claimQuery("token:jti-2", { device: "d3" }, 1_000), T0 + 1_500);
        expect(after.claims.get("token:jti-2")).toEqual({ first: { device: "d2" }, won: false });
      });

      it("claims several keys in one read, each on its own", async () => {
        await store.read(claimQuery("k:taken", { who: "x" }, 60_000), T0);
        const snap = await store.read(
          {
            profiles: ["user:alice"],
            counters: [{ key: "c:none", windowMs: WINDOW }],
            claims: [
              { key: "k:taken", holder: { who: "y" }, ttlMs: 60_000 },
              { key: "k:free", holder: { who: "y", n: 2, ok: true, none: null, list: ["a"] }, ttlMs: 60_000 },
            ],
          },
          T0 + 1,
        );
        expect(snap.claims.get("k:taken")).toEqual({ first: { who: "x" }, won: false });
        expect(snap.claims.get("k:free")).toEqual({
          first: { who: "y", n: 2, ok: true, none: null, list: ["a"] },
          won: true,
        });
        expect(snap.counters.get("c:none")).toEqual({ count: 0, distinct: 0 });
      });
    });

    describe("concurrency", () => {
      it("of 50 parallel claims of one key, exactly one wins and all see its holder", async () => {
        const reads = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.read(claimQuery("token:race", { caller: i }, 60_000), T0 + i)),
        );
        const results = reads.map((s) => s.claims.get("token:race"));
        const winners = results.filter((r) => r?.won);
        expect(winners).toHaveLength(1);
        const holder = winners[0]?.first;
        expect(holder).toBeDefined();
        for (const r of results) expect(r?.first).toEqual(holder);
      });

      it("loses no update across 200 parallel incr writes", async () => {
        await Promise.all(Array.from({ length: 200 }, (_, i) => store.write([incr("c:race", T0 + (i % 10))], T0 + i)));
        expect((await counterAt("c:race", T0 + 10))?.count).toBe(200);
      });

      it("loses no profile update across 100 parallel see writes", async () => {
        await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            store.write(
              [see("user:race", "devices", `d${i}`, T0 + i, 500), see("user:race", "hours", "h1", T0 + i, 500)],
              T0 + i,
            ),
          ),
        );
        const p = (await store.read({ profiles: ["user:race"], counters: [], claims: [] }, T0 + 100)).profiles.get(
          "user:race",
        );
        expect(Object.keys(p?.sets.devices ?? {})).toHaveLength(100);
        expect(p?.sets.hours?.h1).toEqual({ n: 100, first: T0, last: T0 + 99 });
      });
    });

    describe("pending decisions", () => {
      it("stores a pending decision and returns it until it expires", async () => {
        const record = pendingRecord(T0);
        await store.write([{ op: "pending", id: "dec-1", record, ttlMs: 60_000 }], T0);
        expect(await store.getPending("dec-1", T0 + 1)).toEqual(record);
        expect(await store.getPending("dec-1", T0 + 59_999)).toEqual(record);
        expect(await store.getPending("dec-1", T0 + 60_000)).toBeUndefined();
        expect(await store.getPending("dec-2", T0 + 1)).toBeUndefined();
      });

      it("replaces a pending decision with its outcome", async () => {
        await store.write([{ op: "pending", id: "dec-3", record: pendingRecord(T0), ttlMs: 60_000 }], T0);
        const withOutcome = pendingRecord(T0, { outcome: "step_up_passed" });
        await store.write([{ op: "pending", id: "dec-3", record: withOutcome, ttlMs: 60_000 }], T0 + 5_000);
        const got = await store.getPending("dec-3", T0 + 6_000);
        expect(got?.outcome).toBe("step_up_passed");
        expect(got).toEqual(withOutcome);
      });
    });

    describe("time from the arguments", () => {
      // Far from the wall clock on both sides: an adapter using its own clock would get these wrong.
      const PAST = Date.UTC(2001, 0, 1);
      const FUTURE = Date.UTC(2101, 0, 1);

      it("expires claims by the given time, not the wall clock", async () => {
        const a = await store.read(claimQuery("k:past", { n: 1 }, 1_000), PAST);
        const b = await store.read(claimQuery("k:past", { n: 2 }, 1_000), PAST + 999);
        expect([a.claims.get("k:past")?.won, b.claims.get("k:past")?.won]).toEqual([true, false]);
        const c = await store.read(claimQuery("k:future", { n: 1 }, 1_000), FUTURE);
        const d = await store.read(claimQuery("k:future", { n: 2 }, 1_000), FUTURE + 1_000);
        expect([c.claims.get("k:future")?.won, d.claims.get("k:future")?.won]).toEqual([true, true]);
      });

      it("windows counters by the given time", async () => {
        await store.write([incr("c:past", PAST), distinct("c:past", "m", PAST)], PAST);
        expect(await counterAt("c:past", PAST + 1)).toEqual({ count: 1, distinct: 1 });
        expect(await counterAt("c:past", PAST + 2 * WINDOW)).toEqual({ count: 0, distinct: 0 });
      });

      it("expires pending decisions by the given time", async () => {
        const record = pendingRecord(PAST);
        await store.write([{ op: "pending", id: "dec-past", record, ttlMs: 60_000 }], PAST);
        expect(await store.getPending("dec-past", PAST + 1)).toEqual(record);
        const future = pendingRecord(FUTURE);
        await store.write([{ op: "pending", id: "dec-future", record: future, ttlMs: 60_000 }], FUTURE);
        expect(await store.getPending("dec-future", FUTURE + 59_000)).toEqual(future);
        expect(await store.getPending("dec-future", FUTURE + 60_001)).toBeUndefined();
      });
    });

    const restart = options.restart;
    if (restart) {
      describe("restart", () => {
        it("restart keeps learned state: a device known before is still known", async () => {
          await store.write(
            [
              see("user:alice", "devices", "d1", T0),
              see("user:alice", "devices", "d1", T0 + 5),
              { op: "set", profile: "user:alice", field: "last_location", value: { lat: 1.5, lon: -2 } },
              incr("user:alice:fails", T0, 2),
              distinct("user:alice:fails", "10.0.0.1", T0),
              { op: "pending", id: "dec-r", record: pendingRecord(T0), ttlMs: 3_600_000 },
            ],
            T0 + 5,
          );
          await store.read(claimQuery("token:r", { d: "d1" }, 60_000), T0);
          await store.close();
          store = await restart(store);
          const snap = await store.read(
            {
              profiles: ["user:alice"],
              counters: [{ key: "user:alice:fails", windowMs: WINDOW, distinct: true }],
              claims: [{ key: "token:r", holder: { d: "d2" }, ttlMs: 60_000 }],
            },
            T0 + 1_000,
          );
          expect(snap.profiles.get("user:alice")).toEqual({
            sets: { devices: { d1: { n: 2, first: T0, last: T0 + 5 } } },
            values: { last_location: { lat: 1.5, lon: -2 } },
          });
          expect(snap.counters.get("user:alice:fails")).toEqual({ count: 2, distinct: 1 });
          expect(snap.claims.get("token:r")).toEqual({ first: { d: "d1" }, won: false });
          expect(await store.getPending("dec-r", T0 + 1_000)).toEqual(pendingRecord(T0));
        });
      });
    }

    describe("close", () => {
      it("rejects every call after close", async () => {
        await store.write([see("user:alice", "devices", "d1", T0)], T0);
        await store.close();
        await expect(store.read({ profiles: ["user:alice"], counters: [], claims: [] }, T0)).rejects.toThrow(/closed/);
        await expect(store.write([incr("c:x", T0)], T0)).rejects.toThrow(/closed/);
        await expect(store.getPending("dec-1", T0)).rejects.toThrow(/closed/);
      });
    });
  });
}
