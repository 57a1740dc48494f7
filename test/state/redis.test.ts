/**
 * Runs the state conformance suite against a real Redis (with the node's profile copies, without
 * them, and as two nodes alternating on one key prefix), plus round trips, key layout, TTLs and failures.
 */

import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSignalboxError } from "../../src/errors/signalbox-error.js";
import type { StateUpdate } from "../../src/state/port.js";
import { type RedisStateOptions, RedisStateStore } from "../../src/state/redis.js";
import { scanAll } from "../../src/state/redis-client.js";
import { redisFor } from "../support/redis-probe.js";
import { runStateConformance } from "./conformance.js";
import { LIVE_COPIES } from "./redis-live-copies.js";
import { AlternatingRedisPair } from "./redis-pair.js";

const URL = process.env.SIGNALBOX_TEST_REDIS ?? "redis://127.0.0.1:6379/0";
const RUN = `sbtest-${randomUUID().slice(0, 8)}`;
const T0 = 1_700_000_000_000;

const up = await redisFor("the Redis state tests", URL);

/** Deletes every key of this run (SCAN + DEL by prefix). */
async function cleanup(): Promise<void> {
  const admin = new Redis(URL);
  const keys = await scanAll(admin, `${RUN}:*`);
  for (let i = 0; i < keys.length; i += 500) await admin.del(...keys.slice(i, i + 500));
  admin.disconnect();
}

let stores = 0;
const makeStoreWith = (options: Partial<RedisStateOptions>) => async () => {
  const s = new RedisStateStore({ url: URL, keyPrefix: `${RUN}:${++stores}:`, ...options });
  await s.ready();
  return s;
};
const makeStore = makeStoreWith({});
const pairs: AlternatingRedisPair[] = [];

describe.skipIf(!up)("redis", () => {
  runStateConformance("redis", makeStore, cleanup, { approximateDistinct: true, liveSnapshots: LIVE_COPIES });
  runStateConformance("redis, profile copies off", makeStoreWith({ profileCacheSize: 0 }), cleanup, {
    approximateDistinct: true,
  });
  runStateConformance(
    "redis, two nodes alternating on one prefix",
    async () => {
      const pair = await AlternatingRedisPair.open(URL, `${RUN}:${++stores}:`);
      pairs.push(pair);
      return pair;
    },
    cleanup,
    { approximateDistinct: true },
  );

  it("made the two alternating nodes serve reads from their copies, and compared every profile read", () => {
    const compared = pairs.reduce((n, p) => n + p.compared, 0);
    const stats = pairs.flatMap((p) => p.nodes.map((node) => node.copies.stats));
    const sum = (pick: (s: (typeof stats)[number]) => number) => stats.reduce((n, s) => n + pick(s), 0);
    expect(compared).toBeGreaterThanOrEqual(15);
    // both paths of a copy check were taken: "same", and out of date after the other node wrote
    expect(sum((s) => s.hits)).toBeGreaterThan(0);
    expect(sum((s) => s.stale)).toBeGreaterThan(0);
    expect(sum((s) => s.applied)).toBeGreaterThan(0);
  });

  describe("redis state store", () => {
    let admin: Redis;
    beforeAll(() => {
      admin = new Redis(URL);
    });
    afterAll(async () => {
      admin.disconnect();
      await cleanup();
    });

    it("costs one round trip per read and one per write", async () => {
      const s = await makeStore();
      const before = s.roundTrips;
      await s.read(
        {
          profiles: ["user:alice", "device:d1", "global:login"],
          counters: [
            { key: "user:alice:login_failures", windowMs: 600_000 },
            { key: "user:alice:new_resources", windowMs: 3_600_000 },
            { key: "ip:10.0.0.1:logins", windowMs: 60_000 },
            { key: "global:login:attempts", windowMs: 60_000 },
          ],
          claims: [{ key: "jti:abc", holder: { device: "d1" }, ttlMs: 60_000 }],
        },
        T0,
      );
      expect(s.roundTrips - before).toBe(1);
      await s.write(
        [
          { op: "see", profile: "user:alice", field: "devices", value: "d1", at: T0, cap: 20 },
          { op: "see", profile: "user:alice", field: "countries", value: "FR", at: T0, cap: 20 },
          { op: "see", profile: "device:d1", field: "users", value: "alice", at: T0, cap: 50 },
          { op: "set", profile: "user:alice", field: "last_location", value: { lat: 1, lon: 2, at: T0 } },
          { op: "incr", counter: "user:alice:login_failures", at: T0, by: 1, windowMs: 600_000 },
          { op: "incr", counter: "global:login:attempts", at: T0, by: 1, windowMs: 60_000 },
          { op: "distinct", counter: "ip:10.0.0.1:logins", member: "alice", at: T0, windowMs: 60_000 },
          {
            op: "pending",
            id: "dec-1",
            record: { subject: "user:alice", controlPath: "step_up", at: T0, learn: [] },
            ttlMs: 60_000,
          },
        ],
        T0,
      );
      expect(s.roundTrips - before).toBe(2);
      await s.getPending("dec-1", T0);
      expect(s.roundTrips - before).toBe(3);
      await s.close();
    });

    it("puts an identity's profile and counters in one cluster slot, and escapes braces", async () => {
      const s = new RedisStateStore({ url: URL, keyPrefix: "sb:" });
      expect(s.key("user:alice", "profile")).toBe("sb:{user:alice}:p");
      expect(s.key("user:alice:login_failures", "counter")).toBe("sb:{user:alice}:login_failures:c");
      expect(s.key("user:alice:login_failures", "distinct", 42)).toBe("sb:{user:alice}:login_failures:h:42");
      expect(s.key("jti:abc", "claim")).toBe("sb:{jti:abc}:k");
      expect(s.key("dec-1", "pending")).toBe("sb:{dec-1}:d");
      expect(s.key("workload:a{b}c", "profile")).toBe("sb:{workload:a%7Bb%7Dc}:p");
      // Cluster hashes only the text between the first braces: equal tags mean one slot
      const tagOf = (k: string) => k.slice(k.indexOf("{") + 1, k.indexOf("}"));
      expect(tagOf(s.key("svc:ns:api:login_failures", "counter"))).toBe(tagOf(s.key("svc:ns:api", "profile")));
      expect(tagOf(s.key("svc:ns:api:login_failures", "distinct", 7))).toBe("svc:ns:api");
      expect(tagOf(s.key("c:edge", "counter"))).toBe("c:edge");
      await s.close();
    });

    it("sets a TTL on every key it writes", async () => {
      const s = await makeStore();
      const prefix = `${RUN}:${stores}:`;
      await s.write(
        [
          { op: "see", profile: "user:ttl", field: "devices", value: "d1", at: T0, cap: 5 },
          { op: "incr", counter: "user:ttl:fails", at: T0, by: 1, windowMs: 600_000 },
          { op: "distinct", counter: "user:ttl:ips", member: "1.2.3.4", at: T0, windowMs: 600_000 },
          {
            op: "pending",
            id: "dec-ttl",
            record: { subject: "user:ttl", controlPath: "hold", at: T0, learn: [] },
            ttlMs: 120_000,
          },
        ],
        T0,
      );
      await s.read({ profiles: [], counters: [], claims: [{ key: "jti:ttl", holder: { a: 1 }, ttlMs: 30_000 }] }, T0);
      const keys = await scanAll(admin, `${prefix}*`);
      expect(keys.length).toBe(5);
      const ttls = Object.fromEntries(
        await Promise.all(keys.map(async (k) => [k.slice(k.lastIndexOf(":") + 1), await admin.pttl(k)])),
      );
      const day = 86_400_000;
      expect(ttls.p).toBeGreaterThan(179 * day);
      expect(ttls.p).toBeLessThanOrEqual(180 * day);
      expect(ttls.c).toBeGreaterThan(600_000);
      expect(ttls.c).toBeLessThanOrEqual(660_000);
      expect(ttls.k).toBeGreaterThan(0);
      expect(ttls.k).toBeLessThanOrEqual(30_000);
      expect(ttls.d).toBeGreaterThan(0);
      expect(ttls.d).toBeLessThanOrEqual(120_000);
      const hll = keys.find((k) => k.includes(":h:"));
      expect(hll && (await admin.pttl(hll))).toBeGreaterThan(600_000);
      await s.close();
    });

    it("evicts by cap within a field whose name holds glob characters, leaving other fields alone", async () => {
      const s = await makeStore();
      const field = "dev*[x]?\\";
      const updates: StateUpdate[] = [
        { op: "see", profile: "user:glob", field: "dev", value: "keep", at: T0, cap: 1 },
        { op: "see", profile: "user:glob", field: "devX[x]?\\", value: "other", at: T0, cap: 1 },
      ];
      for (let i = 0; i < 5; i++) {
        updates.push({ op: "see", profile: "user:glob", field, value: `v${i}`, at: T0 + i, cap: 3 });
      }
      await s.write(updates, T0 + 10);
      const snap = await s.read({ profiles: ["user:glob"], counters: [], claims: [] }, T0 + 10);
      const sets = snap.profiles.get("user:glob")?.sets ?? {};
      expect(Object.keys(sets[field] ?? {}).sort()).toEqual(["v2", "v3", "v4"]);
      expect(Object.keys(sets.dev ?? {})).toEqual(["keep"]);
      expect(Object.keys(sets["devX[x]?\\"] ?? {})).toEqual(["other"]);
      await s.close();
    });

    it("keeps a busy counter to its window's buckets", async () => {
      const s = await makeStore();
      for (let i = 0; i < 40; i++) {
        await s.write([{ op: "incr", counter: "user:busy:fails", at: T0 + i * 1_000, by: 1, windowMs: 10_000 }], T0);
      }
      const fields = await admin.hkeys(s.key("user:busy:fails", "counter"));
      expect(fields.length).toBeLessThanOrEqual(12);
      await s.close();
    });

    it("lets exactly one of two connections win a claim, and loses no increment between them", async () => {
      const a = await makeStore();
      const b = new RedisStateStore({ url: URL, keyPrefix: `${RUN}:${stores}:` });
      await b.ready();
      const q = (who: string) => ({
        profiles: [],
        counters: [],
        claims: [{ key: "jti:two", holder: { who }, ttlMs: 60_000 }],
      });
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).read(q(`n${i}`), T0)));
      expect(results.filter((r) => r.claims.get("jti:two")?.won)).toHaveLength(1);
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (i % 2 ? a : b).write([{ op: "incr", counter: "user:two:hits", at: T0, by: 1, windowMs: 60_000 }], T0),
        ),
      );
      const snap = await a.read(
        { profiles: [], counters: [{ key: "user:two:hits", windowMs: 60_000 }], claims: [] },
        T0,
      );
      expect(snap.counters.get("user:two:hits")?.count).toBe(100);
      await a.close();
      await b.close();
    });

    it("recovers when Redis has lost its scripts", async () => {
      const s = await makeStore();
      await admin.script("FLUSH");
      await s.write([{ op: "incr", counter: "user:flush:n", at: T0, by: 2, windowMs: 60_000 }], T0);
      const snap = await s.read(
        {
          profiles: [],
          counters: [{ key: "user:flush:n", windowMs: 60_000 }],
          claims: [{ key: "jti:f", holder: { a: 1 }, ttlMs: 1000 }],
        },
        T0,
      );
      expect(snap.counters.get("user:flush:n")?.count).toBe(2);
      expect(snap.claims.get("jti:f")?.won).toBe(true);
      await s.close();
    });

    it("rejects quickly with STATE_UNAVAILABLE when nothing listens", async () => {
      const port = await closedPort();
      const s = new RedisStateStore({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300 });
      const err = await s.read({ profiles: ["user:a"], counters: [], claims: [] }, T0).catch((e: unknown) => e);
      expect(isSignalboxError(err) && err.code).toBe("STATE_UNAVAILABLE");
      // still failing, not queueing, on the next call
      const again = await s
        .write([{ op: "incr", counter: "c:x", at: T0, by: 1, windowMs: 1000 }], T0)
        .catch((e: unknown) => e);
      expect(isSignalboxError(again) && again.code).toBe("STATE_UNAVAILABLE");
      await s.close();
    });

    it("reconnects by itself after its connection is killed", async () => {
      const s = await makeStore();
      await s.write([{ op: "set", profile: "user:kill", field: "x", value: 1 }], T0);
      const list = String(await admin.call("CLIENT", "LIST", "TYPE", "normal"));
      const ids = list
        .split("\n")
        .filter((l) => l.includes(`name=${s.connectionName} `))
        .map((l) => /id=(\d+)/.exec(l)?.[1])
        .filter((id): id is string => id !== undefined);
      expect(ids).toHaveLength(1);
      for (const id of ids) await admin.call("CLIENT", "KILL", "ID", id);
      let value: unknown;
      for (let attempt = 0; attempt < 50 && value === undefined; attempt++) {
        try {
          const snap = await s.read({ profiles: ["user:kill"], counters: [], claims: [] }, T0);
          value = snap.profiles.get("user:kill")?.values.x;
        } catch (err) {
          expect(isSignalboxError(err) && err.code).toBe("STATE_UNAVAILABLE");
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(value).toBe(1);
      await s.close();
    });
  });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 1;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
