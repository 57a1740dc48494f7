/**
 * Redis state through Redis Sentinel: a primary, a replica and a sentinel of the test's own, each a
 * real `redis-server` on a free loopback port (the machine's Redis is a single server). The state
 * conformance suite runs through a `redis+sentinel://` URL; then the sentinel fails the primary
 * over to the replica mid-traffic, and the store follows it without a restart: what was learned
 * before is still there, new writes land on the new primary, and no call waits past its timeout.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSignalboxError } from "../../src/errors/signalbox-error.js";
import { openStateStore } from "../../src/state/open-state.js";
import type { StateQuery } from "../../src/state/port.js";
import type { RedisStateStore } from "../../src/state/redis.js";
import { freePort, RedisProcess, redisServerInstalled } from "../scaleout/redis-process.js";
import { redisAnswers } from "../support/redis-probe.js";
import { runStateConformance, see } from "./conformance.js";
import { LIVE_COPIES } from "./redis-live-copies.js";

const PRIMARY_NAME = "sbprimary";
const RUN = `sbsentinel-${randomUUID().slice(0, 8)}`;
const T0 = 1_700_000_000_000;

const installed = await redisServerInstalled();
if (!installed) {
  if (process.env.CI === "true") throw new Error("redis-server is not installed and CI=true: refusing to skip");
  console.warn("\n*** SKIPPING the Redis Sentinel tests: no redis-server binary to start ***\n");
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A sentinel watching `primaryPort` under `PRIMARY_NAME`, quick to call a failover. */
class SentinelProcess {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(dir: string, primaryPort: number): Promise<SentinelProcess> {
    const port = await freePort();
    const conf = join(dir, "sentinel.conf");
    writeFileSync(
      conf,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        `sentinel monitor ${PRIMARY_NAME} 127.0.0.1 ${primaryPort} 1`,
        `sentinel down-after-milliseconds ${PRIMARY_NAME} 1000`,
        `sentinel failover-timeout ${PRIMARY_NAME} 5000`,
        "",
      ].join("\n"),
    );
    const child = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
    const sentinel = new SentinelProcess(port, child);
    await until("the sentinel to answer", async () =>
      (await redisAnswers(`redis://127.0.0.1:${port}`)) ? true : undefined,
    );
    return sentinel;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    await gone;
  }
}

describe.skipIf(!installed)("redis state through Redis Sentinel", () => {
  let dir: string;
  let primary: RedisProcess;
  let replica: RedisProcess;
  let sentinel: SentinelProcess;
  let admin: Redis;
  let stores = 0;

  const sentinelUrl = (params: string) =>
    `redis+sentinel://127.0.0.1:${sentinel.port}/${PRIMARY_NAME}/0?prefix=${RUN}:${++stores}:&${params}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-redis-sentinel-"));
    // Each server keeps its files (a replica writes the RDB of its first sync) in the test's directory.
    mkdirSync(join(dir, "primary"));
    mkdirSync(join(dir, "replica"));
    primary = await RedisProcess.start(["--dir", join(dir, "primary")]);
    replica = await RedisProcess.start([
      "--dir",
      join(dir, "replica"),
      "--replicaof",
      "127.0.0.1",
      String(primary.port),
    ]);
    const probe = new Redis(primary.port, "127.0.0.1", { lazyConnect: true });
    await probe.connect();
    // The sentinel learns of the replica from the primary's INFO, so the replica attaches first.
    await until("the replica to attach", async () =>
      /connected_slaves:1/.test(await probe.info("replication")) ? true : undefined,
    );
    probe.disconnect();
    sentinel = await SentinelProcess.start(dir, primary.port);
    admin = new Redis(sentinel.port, "127.0.0.1");
    await until("the sentinel to know the replica", async () => {
      const replicas = (await admin.call("SENTINEL", "REPLICAS", PRIMARY_NAME)) as string[][];
      return replicas.some((r) => r.includes(String(replica.port))) ? true : undefined;
    });
  }, 60_000);

  afterAll(async () => {
    admin?.disconnect();
    await sentinel?.stop();
    await replica?.stop();
    await primary?.stop();
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
        `redis://127.0.0.1:${replica.port}/0?prefix=${RUN}:${stores}:&profile_cache_size=0`,
        dir,
      )) as RedisStateStore;
      await until("the replica to have the write", async () => {
        const copied = (await onReplica.read(query, T0)).profiles.get("user:carol");
        return copied?.sets.devices?.d1 ? true : undefined;
      });
      await onReplica.close();

      await admin.call("SENTINEL", "FAILOVER", PRIMARY_NAME);
      await until(
        "the sentinel to name the replica as primary",
        async () => {
          const [, port] = (await admin.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", PRIMARY_NAME)) as string[];
          return port === String(replica.port) ? true : undefined;
        },
        30_000,
      );

      // Calls during the switch may fail, each within its timeout, until the store reaches the new
      // primary. (A write that reaches the old primary after the promotion and before its demotion
      // is lost with it: Redis replication is asynchronous. docs/deploy.md says so.)
      const onNew = new Redis(replica.port, "127.0.0.1");
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
        `redis://127.0.0.1:${replica.port}/0?prefix=${RUN}:${stores}:&profile_cache_size=0`,
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
    const err = await openStateStore(`redis+sentinel://127.0.0.1:${sentinel.port}/nosuch/0?timeout_ms=300`, dir).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "STATE_UNAVAILABLE" });
    expect(String((err as Error).message)).toContain(`redis+sentinel://127.0.0.1:${sentinel.port}/nosuch/0`);
  });
});
