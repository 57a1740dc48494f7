/**
 * A primary, its replica and one sentinel watching them, each a `redis-server` of the test's own on
 * a free loopback port, with their files in a directory of the test's: what a Sentinel deployment
 * looks like, small enough to fail over on command.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { redisAnswers } from "../support/redis-probe.js";
import { freePort, RedisProcess } from "./redis-process.js";

/** The primary's name in the sentinel's configuration. */
export const PRIMARY_NAME = "sbprimary";

/** Polls `probe` every 100 ms until it returns a value; throws naming `what` after `ms`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
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

export class RedisSentinelSet {
  private constructor(
    readonly primary: RedisProcess,
    readonly replica: RedisProcess,
    private readonly sentinel: SentinelProcess,
    /** A connection to the sentinel, for `SENTINEL …` commands. */
    readonly admin: Redis,
  ) {}

  /** Starts the three and resolves once the sentinel knows the replica (so it can fail over to it). */
  static async start(dir: string): Promise<RedisSentinelSet> {
    // Each server keeps its files (a replica writes the RDB of its first sync) in the test's directory.
    mkdirSync(join(dir, "primary"));
    mkdirSync(join(dir, "replica"));
    const primary = await RedisProcess.start(["--dir", join(dir, "primary")]);
    const replica = await RedisProcess.start([
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
    const sentinel = await SentinelProcess.start(dir, primary.port);
    const admin = new Redis(sentinel.port, "127.0.0.1");
    await until("the sentinel to know the replica", async () => {
      const replicas = (await admin.call("SENTINEL", "REPLICAS", PRIMARY_NAME)) as string[][];
      return replicas.some((r) => r.includes(String(replica.port))) ? true : undefined;
    });
    return new RedisSentinelSet(primary, replica, sentinel, admin);
  }

  /** A `redis+sentinel://` state URL for this set; `query` is added as it is (e.g. `prefix=x:`). */
  url(query = ""): string {
    return `redis+sentinel://127.0.0.1:${this.sentinel.port}/${PRIMARY_NAME}/0${query === "" ? "" : `?${query}`}`;
  }

  get sentinelPort(): number {
    return this.sentinel.port;
  }

  /** Makes the sentinel promote the replica, and resolves once it names the replica as the primary. */
  async failover(): Promise<void> {
    await this.admin.call("SENTINEL", "FAILOVER", PRIMARY_NAME);
    await until(
      "the sentinel to name the replica as primary",
      async () => {
        const [, port] = (await this.admin.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", PRIMARY_NAME)) as string[];
        return port === String(this.replica.port) ? true : undefined;
      },
      30_000,
    );
  }

  async stop(): Promise<void> {
    this.admin.disconnect();
    await this.sentinel.stop();
    await this.replica.stop();
    await this.primary.stop();
  }
}
