/**
 * A primary, its replica and one sentinel watching them, each a `redis-server` of the test's own on
 * a free loopback port, with their files in a directory of the test's: what a Sentinel deployment
 * looks like, small enough to fail over on command. With TLS, each of the three also listens for
 * TLS clients on a port of its own and they talk to each other over TLS (replication, the
 * sentinel's checks), so the sentinel names the primary by its TLS port; the plain ports stay for
 * the harness's own questions.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { redisAnswers, withServer } from "../support/redis-probe.js";
import { freePort, RedisProcess } from "./redis-process.js";

/** Certificates for a set that speaks TLS: the server certificate is also each server's client certificate towards the others. */
export interface SentinelTls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** A server's TLS settings (`--name value` pairs, or config file lines when `asConfig`), listening for TLS on `port`. */
function tlsSettings(tls: SentinelTls, port: number): string[][] {
  return [
    ["tls-port", String(port)],
    ["tls-cert-file", tls.cert],
    ["tls-key-file", tls.key],
    ["tls-ca-cert-file", tls.ca],
    ["tls-replication", "yes"],
  ];
}

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
    readonly tlsPort?: number,
  ) {}

  static async start(dir: string, primaryPort: number, tls?: SentinelTls): Promise<SentinelProcess> {
    const port = await freePort();
    let tlsPort: number | undefined;
    while (tls !== undefined && (tlsPort === undefined || tlsPort === port)) tlsPort = await freePort();
    const conf = join(dir, "sentinel.conf");
    writeFileSync(
      conf,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        ...(tls !== undefined && tlsPort !== undefined ? tlsSettings(tls, tlsPort).map((s) => s.join(" ")) : []),
        `sentinel monitor ${PRIMARY_NAME} 127.0.0.1 ${primaryPort} 1`,
        `sentinel down-after-milliseconds ${PRIMARY_NAME} 1000`,
        `sentinel failover-timeout ${PRIMARY_NAME} 5000`,
        "",
      ].join("\n"),
    );
    const child = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
    const sentinel = new SentinelProcess(port, child, tlsPort);
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
    /** With TLS: the primary's and the replica's TLS ports, which the sentinel names them by. */
    private readonly tlsPorts?: { readonly primary: number; readonly replica: number },
  ) {}

  /** Starts the three and resolves once the sentinel knows the replica (so it can fail over to it). */
  static async start(dir: string, tls?: SentinelTls): Promise<RedisSentinelSet> {
    // Each server keeps its files (a replica writes the RDB of its first sync) in the test's directory.
    mkdirSync(join(dir, "primary"));
    mkdirSync(join(dir, "replica"));
    const tlsPorts = tls === undefined ? undefined : { primary: await freePort(), replica: await freePort() };
    const tlsArgs = (port: number | undefined) =>
      tls === undefined || port === undefined
        ? []
        : tlsSettings(tls, port).flatMap(([name, value]) => [`--${name}`, value as string]);
    const primary = await RedisProcess.start(["--dir", join(dir, "primary"), ...tlsArgs(tlsPorts?.primary)]);
    const replica = await RedisProcess.start([
      "--dir",
      join(dir, "replica"),
      "--replicaof",
      "127.0.0.1",
      String(tlsPorts?.primary ?? primary.port),
      ...tlsArgs(tlsPorts?.replica),
    ]);
    const probe = new Redis(primary.port, "127.0.0.1", { lazyConnect: true });
    await probe.connect();
    // The sentinel learns of the replica from the primary's INFO, so the replica attaches first.
    await until("the replica to attach", async () =>
      /connected_slaves:1/.test(await probe.info("replication")) ? true : undefined,
    );
    probe.disconnect();
    const sentinel = await SentinelProcess.start(dir, tlsPorts?.primary ?? primary.port, tls);
    const admin = new Redis(sentinel.port, "127.0.0.1");
    await until("the sentinel to know the replica", async () => {
      const replicas = (await admin.call("SENTINEL", "REPLICAS", PRIMARY_NAME)) as string[][];
      return replicas.some((r) => r.includes(String(tlsPorts?.replica ?? replica.port))) ? true : undefined;
    });
    return new RedisSentinelSet(primary, replica, sentinel, admin, tlsPorts);
  }

  /** A `rediss+sentinel://` state URL naming the sentinel's TLS port (a set started with TLS); `query` as for `url`. */
  tlsUrl(query = ""): string {
    if (this.sentinel.tlsPort === undefined) throw new Error("this set was started without TLS");
    return `rediss+sentinel://127.0.0.1:${this.sentinel.tlsPort}/${PRIMARY_NAME}/0${query === "" ? "" : `?${query}`}`;
  }

  /** A `redis+sentinel://` state URL for this set; `query` is added as it is (e.g. `prefix=x:`). */
  url(query = ""): string {
    return `redis+sentinel://127.0.0.1:${this.sentinel.port}/${PRIMARY_NAME}/0${query === "" ? "" : `?${query}`}`;
  }

  get sentinelPort(): number {
    return this.sentinel.port;
  }

  /** Whether the replica (the new primary after a failover) holds `key`, asked on its plain port. */
  replicaHas(key: string): Promise<boolean> {
    return withServer(this.replica.port, async (server) => (await server.exists(key)) === 1);
  }

  /** The replica's `CLIENT LIST` (a store connected over TLS is listed by its name too). */
  replicaClients(): Promise<string> {
    return withServer(this.replica.port, async (server) => String(await server.call("CLIENT", "LIST")));
  }

  /** Makes the sentinel promote the replica, and resolves once it names the replica as the primary. */
  async failover(): Promise<void> {
    await this.admin.call("SENTINEL", "FAILOVER", PRIMARY_NAME);
    await until(
      "the sentinel to name the replica as primary",
      async () => {
        const [, port] = (await this.admin.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", PRIMARY_NAME)) as string[];
        return port === String(this.tlsPorts?.replica ?? this.replica.port) ? true : undefined;
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
