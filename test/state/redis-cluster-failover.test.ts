/**
 * Redis state on a Redis Cluster through a master's failover (ADR 0020): three cluster-enabled
 * masters of the test's own, each with one replica, on free loopback ports (the machine's Redis is a
 * single server). The master serving an identity is killed outright; its replica takes over, and
 * the store follows it without a restart: what was learned before is still there, new writes land on
 * the new master, no call waits past its timeout or fails with anything but STATE_UNAVAILABLE,
 * identities on the other masters keep answering, and the node's profile copies are dropped rather
 * than trusted on a server they did not come from.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSignalboxError } from "../../src/errors/signalbox-error.js";
import { openStateStore } from "../../src/state/open-state.js";
import type { StateQuery, StateUpdate } from "../../src/state/port.js";
import type { RedisStateStore } from "../../src/state/redis.js";
import { RedisClusterSet } from "../scaleout/redis-cluster-set.js";
import { redisServerFor } from "../scaleout/redis-process.js";
import { until } from "../scaleout/redis-sentinel-set.js";
import { see } from "./conformance.js";

const RUN = `sbclusterfo-${randomUUID().slice(0, 8)}`;
const T0 = 1_700_000_000_000;
/** The store's timeout per call (`timeout_ms`), ms. */
const TIMEOUT_MS = 300;
const HOUR = 3_600_000;
/**
 * Longest any one call may take while a master is down, ms: its timeout and some slack for this
 * busy machine. A Cluster client retries a call through a failover, restarting its own timeout each
 * time; the store bounds each call itself, so a call never runs much past `TIMEOUT_MS`.
 */
const BOUND_MS = 1_000;

const installed = await redisServerFor("the Redis Cluster failover tests");

/** How one call made while a master was down ended, and how long it took. */
interface Outcome {
  what: string;
  code: string;
  ms: number;
}

/**
 * Runs `call`, timing it and noting how it ended ("ok", a SignalboxError's code, or what else it
 * threw) in `outcomes`. A call still pending well past `BOUND_MS` is noted as "hung" rather than
 * waited for, so a hang fails the test's assertions instead of its timeout.
 */
async function timed<T>(outcomes: Outcome[], what: string, call: () => Promise<T>): Promise<T | undefined> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<"hung">((resolve) => {
    timer = setTimeout(() => resolve("hung"), 2 * BOUND_MS);
  });
  try {
    const value = await Promise.race([call(), hung]);
    const ms = Date.now() - started;
    if (value === "hung") {
      outcomes.push({ what, code: "hung", ms });
      return undefined;
    }
    outcomes.push({ what, code: "ok", ms });
    return value;
  } catch (err) {
    const code = isSignalboxError(err) ? err.code : `${(err as Error)?.name}: ${(err as Error)?.message}`;
    outcomes.push({ what, code, ms: Date.now() - started });
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

describe.skipIf(!installed)("redis state on a Redis Cluster through a master's failover", () => {
  let dir: string;
  let cluster: RedisClusterSet;
  let stores = 0;

  const prefix = () => `${RUN}:${++stores}:`;
  const open = async (pfx: string, params = `timeout_ms=${TIMEOUT_MS}`) =>
    (await openStateStore(`${cluster.url}?prefix=${pfx}&${params}`, dir)) as RedisStateStore;
  const devices = (snapshot: Awaited<ReturnType<RedisStateStore["read"]>>, identity: string) =>
    Object.keys(snapshot.profiles.get(identity)?.sets.devices ?? {}).sort();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-redis-cluster-failover-"));
    cluster = await RedisClusterSet.start(dir, 3, 1);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("starts a cluster of three masters, each with a replica whose link is up", async () => {
    expect(cluster.ports).toHaveLength(3);
    expect(cluster.replicaPorts).toHaveLength(3);
    const replicas = await Promise.all(cluster.ports.map((p) => cluster.replicasOf(p)));
    expect(replicas.flat().sort()).toEqual([...cluster.replicaPorts].sort());
    for (const r of replicas) expect(r).toHaveLength(1);
  });

  it("follows a master's failover to its replica without a restart, keeping what was learned", async () => {
    const pfx = prefix();
    const store = await open(pfx);
    try {
      const identity = "user:x";
      const key = store.key(identity, "profile");
      const master = await cluster.portOf(key);
      const [replica] = await cluster.replicasOf(master);
      expect(replica).toBeDefined();
      // An identity on each of the other two masters, which keep answering while this one is down.
      const others: string[] = [];
      const taken = new Set([master]);
      for (let i = 0; others.length < 2 && i < 200; i++) {
        const port = await cluster.portOf(store.key(`user:o${i}`, "profile"));
        if (taken.has(port)) continue;
        taken.add(port);
        others.push(`user:o${i}`);
      }
      expect(others).toHaveLength(2);
      const query: StateQuery = { profiles: [identity], counters: [], claims: [] };
      const othersQuery: StateQuery = {
        profiles: others,
        counters: others.map((o) => ({ key: `${o}:gap`, windowMs: HOUR })),
        claims: [],
      };
      const gap = (o: string): StateUpdate => ({ op: "incr", counter: `${o}:gap`, windowMs: HOUR, at: T0, by: 1 });

      await store.write([see(identity, "devices", "d1", T0), ...others.map((o) => see(o, "devices", "d1", T0))], T0);
      expect(devices(await store.read(query, T0), identity)).toEqual(["d1"]);
      // The read kept a copy of the profile, to be checked by version on the next read.
      expect(store.copies.peek(identity)).toBeDefined();
      const changesBefore = store.serverChanges;

      // The replica has the write before the master dies (replication is asynchronous).
      const onMaster = new Redis(master, "127.0.0.1", { maxRetriesPerRequest: 0, retryStrategy: () => null });
      onMaster.on("error", () => {});
      try {
        expect(await onMaster.call("WAIT", 1, 2000)).toBe(1);
      } finally {
        onMaster.disconnect();
      }

      const killedAt = Date.now();
      await cluster.killMaster(master);

      // Calls during the gap may fail, each within a bounded time, until the store reaches the
      // promoted replica. Each round asks the identities on the surviving masters and the one on the
      // dead master's slot in one event-loop turn, so their calls are coalesced and split: a part
      // that fails fails only the calls with a key in it.
      const outcomes: Outcome[] = [];
      const othersDuring: Outcome[] = [];
      let n = 0;
      const snapshot = await until(
        "the store to read the identity from the promoted replica",
        async () => {
          n += 1;
          const [, , read] = await Promise.all([
            timed(othersDuring, `others read ${n}`, () => store.read(othersQuery, T0 + n)),
            timed(othersDuring, `others write ${n}`, () => store.write(others.map(gap), T0 + n)),
            timed(outcomes, `read ${n}`, () => store.read(query, T0 + n)),
          ]);
          return read;
        },
        30_000,
      );
      const recoveredMs = Date.now() - killedAt;
      const promoted = await cluster.failedOver(master);
      console.info(
        `[cluster failover] store recovered ${recoveredMs} ms after the kill; on the dead master's slot: ` +
          `${JSON.stringify(outcomes)}; on the other masters: ${othersDuring.filter((o) => o.code === "ok").length} ` +
          `of ${othersDuring.length} calls succeeded, failed: ${JSON.stringify(othersDuring.filter((o) => o.code !== "ok"))}`,
      );

      // No call hung, none took long, and none failed with anything but STATE_UNAVAILABLE.
      for (const o of [...outcomes, ...othersDuring]) {
        expect(["ok", "STATE_UNAVAILABLE"], `${o.what} ended with ${o.code}`).toContain(o.code);
        expect(o.ms, `${o.what} took ${o.ms} ms`).toBeLessThan(BOUND_MS);
      }
      // The other masters answered right after the kill (until the cluster flags the master failing,
      // a node timeout later, and reports cluster_state:fail everywhere until the replica takes over).
      expect(othersDuring.slice(0, 2).map((o) => o.code)).toEqual(["ok", "ok"]);
      // The replica took over the identity's slot, and the store follows it.
      expect(promoted).toBe(replica);
      expect(await cluster.portOf(key)).toBe(replica);

      // What was learned before is there, and a new write lands on the new master.
      expect(devices(snapshot, identity)).toEqual(["d1"]);
      await store.write([see(identity, "devices", "d3", T0 + 1000)], T0 + 1000);
      expect(devices(await store.read(query, T0 + 1001), identity)).toEqual(["d1", "d3"]);
      const direct = await open(pfx, "timeout_ms=1000&profile_cache_size=0");
      try {
        expect(devices(await direct.read(query, T0 + 1002), identity)).toEqual(["d1", "d3"]);
      } finally {
        await direct.close();
      }
      // A different server behind the identity's slot: the node's profile copies were dropped, not
      // trusted; counted once per change of the slot table, not for every reconnection attempt.
      expect(store.serverChanges - changesBefore).toBeGreaterThanOrEqual(1);
      expect(store.serverChanges - changesBefore).toBeLessThanOrEqual(2);

      // Once the cluster is whole again, the copies are kept and used again, and no more changes are seen.
      const settled = store.serverChanges;
      const hits = store.copies.stats.hits;
      expect(devices(await store.read(query, T0 + 1003), identity)).toEqual(["d1", "d3"]);
      expect(devices(await store.read(query, T0 + 1004), identity)).toEqual(["d1", "d3"]);
      expect(store.copies.stats.hits).toBeGreaterThan(hits);
      expect(store.serverChanges).toBe(settled);

      // The identities on the surviving masters kept what was learned and every write that succeeded
      // (one that failed may have been applied all the same).
      const writes = othersDuring.filter((o) => o.what.startsWith("others write"));
      const after = await store.read(othersQuery, T0 + 1005);
      for (const other of others) {
        expect(devices(after, other)).toEqual(["d1"]);
        const count = after.counters.get(`${other}:gap`)?.count ?? 0;
        expect(count).toBeGreaterThanOrEqual(writes.filter((w) => w.code === "ok").length);
        expect(count).toBeLessThanOrEqual(writes.length);
      }
    } finally {
      await store.close();
    }
  }, 30_000);
});
