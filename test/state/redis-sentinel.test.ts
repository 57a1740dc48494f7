/**
 * Redis state through Redis Sentinel: a primary, a replica and a sentinel of the test's own, each a
 * real `redis-server` on a free loopback port (the machine's Redis is a single server). The state
 * conformance suite runs through a `redis+sentinel://` URL; then the sentinel fails the primary
 * over to the replica mid-traffic, and the store follows it without a restart: what was learned
 * before is still there, new writes land on the new primary, and no call waits past its timeout.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSignalboxError } from "../../src/errors/signalbox-error.js";
import { openStateStore } from "../../src/state/open-state.js";
import type { StateQuery } from "../../src/state/port.js";
import type { RedisStateStore } from "../../src/state/redis.js";
import { redisServerFor } from "../scaleout/redis-process.js";
import { RedisSentinelSet, until } from "../scaleout/redis-sentinel-set.js";
import { runStateConformance, see } from "./conformance.js";
import { LIVE_COPIES } from "./redis-live-copies.js";

const RUN = `sbsentinel-${randomUUID().slice(0, 8)}`;
const T0 = 1_700_000_000_000;

const installed = await redisServerFor("the Redis Sentinel tests");

describe.skipIf(!installed)("redis state through Redis Sentinel", () => {
  let dir: string;
  let set: RedisSentinelSet;
  let stores = 0;

  const sentinelUrl = (params: string) => set.url(`prefix=${RUN}:${++stores}:&${params}`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-redis-sentinel-"));
    set = await RedisSentinelSet.start(dir);
  }, 60_000);

  afterAll(async () => {
    await set?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  runStateConformance(
    "redis through Sentinel",
    async () => (await openStateStore(sentinelUrl("timeout_ms=1000"), dir)) as RedisStateStore,
    undefined,
    { approximateDistinct: true, liveSnapshots: LIVE_COPIES },
  );

  it("follows a failover to the replica without a restart, keeping what was learned", async () => {
    const store = (await openStateStore(sentinelUrl("timeout_ms=300"), dir)) as RedisStateStore;
    try {
      const query: StateQuery = { profiles: ["user:carol"], counters: [], claims: [] };
      await store.write([see("user:carol", "devices", "d1", T0)], T0);
      expect(Object.keys((await store.read(query, T0)).profiles.get("user:carol")?.sets.devices ?? {})).toEqual(["d1"]);
      // The replica has the write before the failover starts (replication is asynchronous).
      const onReplica = (await openStateStore(
        `redis://127.0.0.1:${set.replica.port}/0?prefix=${RUN}:${stores}:&profile_cache_size=0`,
        dir,
      )) as RedisStateStore;
      await until("the replica to have the write", async () => {
        const copied = (await onReplica.read(query, T0)).profiles.get("user:carol");
        return copied?.sets.devices?.d1 ? true : undefined;
      });
      await onReplica.close();

      await set.failover();

      // Calls during the switch may fail, each within its timeout, until the store reaches the new
      // primary. (A write that reaches the old primary after the promotion and before its demotion
      // is lost with it: Redis replication is asynchronous. docs/deploy.md says so.)
      const onNew = new Redis(set.replica.port, "127.0.0.1");
      const failures: { code: string; ms: number }[] = [];
      await until(
        "the store to reach the new primary",
        async () => {
          const started = Date.now();
          try {
            await store.read(query, T0 + 1);
          } catch (err) {
            failures.push({ code: isSignalboxError(err) ? err.code : String(err), ms: Date.now() - started });
            return undefined;
          }
          const clients = String(await onNew.call("CLIENT", "LIST"));
          return clients.includes(`name=${store.connectionName}`) ? true : undefined;
        },
        30_000,
      );
      for (const f of failures) {
        expect(f.code).toBe("STATE_UNAVAILABLE");
        expect(f.ms).toBeLessThan(3_000);
      }
      expect(await onNew.info("replication")).toMatch(/role:master/);
      onNew.disconnect();

      // What was learned before is there, and a new write lands on the new primary.
      await store.write([see("user:carol", "devices", "d3", T0 + 2)], T0 + 2);
      const learned = (await store.read(query, T0 + 2)).profiles.get("user:carol");
      expect(Object.keys(learned?.sets.devices ?? {})).toEqual(expect.arrayContaining(["d1", "d3"]));
      const direct = (await openStateStore(
        `redis://127.0.0.1:${set.replica.port}/0?prefix=${RUN}:${stores}:&profile_cache_size=0`,
        dir,
      )) as RedisStateStore;
      const stored = (await direct.read(query, T0 + 2)).profiles.get("user:carol");
      await direct.close();
      expect(Object.keys(stored?.sets.devices ?? {})).toEqual(expect.arrayContaining(["d1", "d3"]));
      // A different server behind the connection: the node's profile copies were dropped, not trusted.
      expect(store.serverChanges).toBe(1);
    } finally {
      await store.close();
    }
  }, 90_000);

  it("fails to start with STATE_UNAVAILABLE when the sentinels do not know the primary's name", async () => {
    const err = await openStateStore(
      `redis+sentinel://127.0.0.1:${set.sentinelPort}/nosuch/0?timeout_ms=300`,
      dir,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STATE_UNAVAILABLE" });
    expect(String((err as Error).message)).toContain(`redis+sentinel://127.0.0.1:${set.sentinelPort}/nosuch/0`);
  });
});
