/**
 * Redis state on a Redis Cluster (ADR 0020): three cluster-enabled `redis-server` masters of the
 * test's own on free loopback ports (the machine's Redis is a single server). The state conformance
 * suite runs through a `redis+cluster://` URL with the node's profile copies on and off; coalesced
 * script calls are split by hash slot and reach every master; two stores (two nodes) on one prefix
 * see one world; and a plain `redis://` URL at a cluster node is refused with what to use instead.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStateStore } from "../../src/state/open-state.js";
import type { StateQuery } from "../../src/state/port.js";
import type { RedisStateStore } from "../../src/state/redis.js";
import { keySlot } from "../../src/state/redis-cluster-slot.js";
import { RedisClusterSet } from "../scaleout/redis-cluster-set.js";
import { redisServerFor } from "../scaleout/redis-process.js";
import { runStateConformance, see } from "./conformance.js";
import { LIVE_COPIES } from "./redis-live-copies.js";
import { AlternatingRedisPair } from "./redis-pair.js";

const RUN = `sbcluster-${randomUUID().slice(0, 8)}`;
const T0 = 1_700_000_000_000;

const installed = await redisServerFor("the Redis Cluster tests");

describe.skipIf(!installed)("redis state on a Redis Cluster", () => {
  let dir: string;
  let cluster: RedisClusterSet;
  let stores = 0;

  const clusterUrl = (params: string) => `${cluster.url}?prefix=${RUN}:${++stores}:&${params}`;
  const open = async (params = "timeout_ms=1000") => (await openStateStore(clusterUrl(params), dir)) as RedisStateStore;
  /** A store that splits calls by slot, as on a Cluster of Redis 6 servers. */
  const openBySlot = () => open("timeout_ms=1000&cluster_split=slot");

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-redis-cluster-"));
    cluster = await RedisClusterSet.start(dir);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  runStateConformance("redis on a Cluster, profile copies on", () => open(), undefined, {
    approximateDistinct: true,
    liveSnapshots: LIVE_COPIES,
  });

  runStateConformance("redis on a Cluster, profile copies off", () => open("profile_cache_size=0"), undefined, {
    approximateDistinct: true,
  });

  runStateConformance("redis on a Cluster, calls split by slot (as on Redis 6)", () => openBySlot(), undefined, {
    approximateDistinct: true,
    liveSnapshots: LIVE_COPIES,
  });

  const pairs: AlternatingRedisPair[] = [];
  runStateConformance(
    "redis on a Cluster, two nodes alternating on one prefix",
    async () => {
      const pair = await AlternatingRedisPair.open(cluster.url, `${RUN}:${++stores}:`);
      pairs.push(pair);
      return pair;
    },
    undefined,
    { approximateDistinct: true },
  );

  it("compared every profile the alternating nodes read with an uncached read, copies used and found stale", () => {
    const stats = pairs.flatMap((p) => p.nodes.map((node) => node.copies.stats));
    expect(pairs.reduce((n, p) => n + p.compared, 0)).toBeGreaterThanOrEqual(15);
    expect(stats.reduce((n, s) => n + s.hits, 0)).toBeGreaterThan(0);
    expect(stats.reduce((n, s) => n + s.stale, 0)).toBeGreaterThan(0);
  });

  it("places keys where Redis Cluster does: the adapter's slot is the server's", async () => {
    const store = await open();
    try {
      for (const state of ["user:alice", "ip:10.0.0.1", "global:login", "user:{odd}%key"]) {
        const key = store.key(state, "profile");
        const server = await cluster.portOf(key);
        // The master holding the key's slot is the one CLUSTER SLOTS names for the adapter's slot.
        const sameSlot = await cluster.portOf(`{${key.slice(key.indexOf("{") + 1, key.indexOf("}"))}}`);
        expect(server).toBe(sameSlot);
        expect(keySlot(key)).toBe(keySlot(store.key(`${state}:fails`, "counter")));
      }
    } finally {
      await store.close();
    }
  });

  it.each([
    ["node", open],
    ["slot", openBySlot],
  ] as const)(
    "splits a turn's coalesced read and write by %s, reaching every master, one world for all",
    async (by, openStore) => {
      const store = await openStore();
      expect(store.clusterSplit).toBe(by);
      try {
        const users = Array.from({ length: 30 }, (_, i) => `user:u${i}`);
        const masters = new Set(await Promise.all(users.map((u) => cluster.portOf(store.key(u, "profile")))));
        expect(masters.size).toBe(3);
        const query: StateQuery = {
          profiles: users,
          counters: users.map((u) => ({ key: `${u}:logins`, windowMs: 3_600_000 })),
          claims: [],
        };
        await store.read(query, T0); // the node now holds a copy of each (empty) profile
        const before = await scriptCalls(cluster);
        const trips = store.roundTrips;
        // One turn: thirty identities' writes coalesce into one call, which must be split by slot.
        await Promise.all(
          users.map((u, i) =>
            store.write(
              [
                see(u, "devices", `d${i}`, T0),
                { op: "incr", counter: `${u}:logins`, windowMs: 3_600_000, at: T0, by: 1 },
              ],
              T0,
            ),
          ),
        );
        // The parts of a split travel together: one round trip for the turn's writes, one for its reads.
        expect(store.roundTrips - trips).toBe(1);
        const hits = store.copies.stats.hits;
        const snapshot = await store.read(query, T0 + 1);
        expect(store.roundTrips - trips).toBe(2);
        const after = await scriptCalls(cluster);
        const calls = cluster.ports.map((port) => (after.get(port) ?? 0) - (before.get(port) ?? 0));
        for (const n of calls) expect(n).toBeGreaterThan(0);
        // One write and one read call per master by node; at least one write per identity's slot by slot.
        const total = calls.reduce((a, b) => a + b, 0);
        if (by === "node") expect(total).toBe(2 * cluster.ports.length);
        else expect(total).toBeGreaterThanOrEqual(new Set(users.map((u) => keySlot(store.key(u, "profile")))).size);
        users.forEach((u, i) => {
          expect(Object.keys(snapshot.profiles.get(u)?.sets.devices ?? {})).toEqual([`d${i}`]);
          expect(snapshot.counters.get(`${u}:logins`)?.count).toBe(1);
        });
        // The split write's merged versions brought every copy up to date: each read was served from it.
        expect(store.copies.stats.hits - hits).toBe(users.length);
      } finally {
        await store.close();
      }
    },
  );

  it("measures memory per identity across the primaries (MEMORY USAGE routed by key, SCAN on each primary)", async () => {
    const store = await open();
    try {
      const users = Array.from({ length: 12 }, (_, i) => `user:m${i}`);
      const masters = new Set(await Promise.all(users.map((u) => cluster.portOf(store.key(u, "profile")))));
      expect(masters.size).toBeGreaterThan(1);
      await store.write(
        users.flatMap((u) => [
          see(u, "devices", "d1", T0),
          { op: "distinct", counter: `${u}:ips`, windowMs: 3_600_000, at: T0, member: "10.0.0.1" } as const,
        ]),
        T0,
      );
      const all = await store.memoryUsage({ profiles: users, counters: users.map((u) => `${u}:ips`) });
      let each = 0;
      for (const u of users) {
        // The profile is found by its name, the HyperLogLog buckets by SCAN: on whichever primary holds them.
        const profile = await store.memoryUsage({ profiles: [u] });
        const counter = await store.memoryUsage({ counters: [`${u}:ips`] });
        expect(profile, u).toBeGreaterThan(0);
        expect(counter, u).toBeGreaterThan(0);
        each += profile + counter;
      }
      expect(all).toBe(each);
    } finally {
      await store.flushPrefix();
      await store.close();
    }
  });

  it("lets two nodes on one prefix see one world: a token claimed on one is a replay on the other", async () => {
    const params = `prefix=${RUN}:shared:&timeout_ms=1000`;
    const a = (await openStateStore(`${cluster.url}?${params}`, dir)) as RedisStateStore;
    const b = (await openStateStore(`${cluster.url}?${params}`, dir)) as RedisStateStore;
    try {
      const claim = (holder: string): StateQuery => ({
        profiles: [],
        counters: [],
        claims: [{ key: "token:jti-1", holder: { node: holder }, ttlMs: 60_000 }],
      });
      const first = await a.read(claim("a"), T0);
      const second = await b.read(claim("b"), T0 + 1);
      expect(first.claims.get("token:jti-1")).toEqual({ won: true, first: { node: "a" } });
      expect(second.claims.get("token:jti-1")).toEqual({ won: false, first: { node: "a" } });
      // What one node learns, the other reads.
      await a.write([see("user:shared", "countries", "NO", T0)], T0);
      const read = await b.read({ profiles: ["user:shared"], counters: [], claims: [] }, T0 + 2);
      expect(Object.keys(read.profiles.get("user:shared")?.sets.countries ?? {})).toEqual(["NO"]);
    } finally {
      await a.flushPrefix();
      await a.close();
      await b.close();
    }
  });

  it("refuses a plain redis:// URL at a cluster node at start, naming redis+cluster:// instead", async () => {
    const url = `redis://127.0.0.1:${cluster.ports[0]}/0`;
    const err = await openStateStore(url, dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFIG_INVALID" });
    expect(String((err as Error).message)).toMatch(
      /state store at 'redis:\/\/127\.0\.0\.1:\d+\/0': this Redis runs in Cluster mode: name its nodes with redis\+cluster:\/\//,
    );
  });
});

/** Script calls per master so far: EVALSHA, plus EVAL (the first call on a master that lacked the script). */
async function scriptCalls(cluster: RedisClusterSet): Promise<Map<number, number>> {
  const sha = await cluster.commandCalls("evalsha");
  const plain = await cluster.commandCalls("eval");
  return new Map(cluster.ports.map((p) => [p, (sha.byPort.get(p) ?? 0) + (plain.byPort.get(p) ?? 0)]));
}
