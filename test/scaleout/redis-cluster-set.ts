/**
 * A small Redis Cluster of the test's own: a few cluster-enabled `redis-server`s on free loopback
 * ports, masters only, every hash slot assigned, with their files in a directory of the test's. It is
 * what a Redis Cluster deployment looks like to Signalbox's state adapter, and it can say which master
 * a key lives on and how often each master was asked a command, so a test can check that Signalbox's
 * keys and scripts spread over the masters the way Redis Cluster routes them.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import { redisAnswers } from "../support/redis-probe.js";
import { freePort } from "./redis-process.js";
import { until } from "./redis-sentinel-set.js";

/** How many hash slots a Redis Cluster divides its keys into. */
const SLOTS = 16_384;

/** Runs `use` on a one-off connection to the server on `port` that never retries, and always closes it. */
async function withServer<T>(port: number, use: (server: Redis) => Promise<T>): Promise<T> {
  const server = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  server.on("error", () => {});
  try {
    await server.connect();
    return await use(server);
  } finally {
    server.disconnect();
  }
}

/** Whether the server on `port` reports the cluster healthy (`cluster_state:ok`) with every slot assigned. */
async function clusterOk(port: number): Promise<boolean> {
  try {
    const info = await withServer(port, (server) => server.cluster("INFO"));
    return /^cluster_state:ok\r?$/m.test(info) && new RegExp(`^cluster_slots_assigned:${SLOTS}\\r?$`, "m").test(info);
  } catch {
    return false;
  }
}

/** Runs `redis-cli` with `args` and resolves with its output; throws with that output if it fails or hangs. */
async function redisCli(args: readonly string[], ms = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    // redis-cli colours its --cluster messages whenever TERM names a colour terminal, even into a pipe.
    const child = spawn("redis-cli", args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, TERM: "dumb" },
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    // `--cluster create` waits for the nodes to meet without a deadline of its own.
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`redis-cli ${args.join(" ")} failed (${signal ?? `exit ${code}`}):\n${output}`));
    });
  });
}

/** One cluster-enabled master without persistence, its files (cluster config, log) in a directory of its own. */
class ClusterNode {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  /** Starts a node with its directory inside `dir` and resolves once it answers PING. */
  static async start(dir: string): Promise<ClusterNode> {
    const port = await freePort();
    // The cluster bus gets a free port of its own: its default, port + 10000, lies beyond 65535 for the
    // top of Linux's ephemeral range, and redis-server refuses to start in cluster mode there.
    let busPort = await freePort();
    while (busPort === port) busPort = await freePort();
    const nodeDir = join(dir, `node-${port}`);
    mkdirSync(nodeDir);
    const log = join(nodeDir, "redis.log");
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-port",
        String(busPort),
        "--cluster-config-file",
        join(nodeDir, `nodes-${port}.conf`),
        "--cluster-node-timeout",
        "2000",
        "--dir",
        nodeDir,
        "--logfile",
        log,
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
      ],
      { stdio: "ignore" },
    );
    let failed: Error | undefined;
    child.once("error", (error) => {
      failed = error;
    });
    const node = new ClusterNode(port, child);
    try {
      await until(`redis-server on port ${port} to answer`, async () => {
        if (failed) throw failed;
        if (child.exitCode !== null)
          throw new Error(`redis-server on port ${port} exited with ${child.exitCode}; see ${log}`);
        return (await redisAnswers(`redis://127.0.0.1:${port}`)) ? true : undefined;
      });
    } catch (error) {
      await node.stop();
      throw error;
    }
    return node;
  }

  /** Stops the server (SIGTERM, SIGKILL if it lingers 5 s) and resolves once the process is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    // A server that never started (no pid) will never exit either.
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  }
}

export class RedisClusterSet {
  /** Loopback ports of the masters, in start order. */
  readonly ports: readonly number[];

  private constructor(private readonly nodes: readonly ClusterNode[]) {
    this.ports = nodes.map((n) => n.port);
  }

  /**
   * Starts `masters` cluster-enabled servers with their files in `dir`, joins them into one cluster
   * with `redis-cli --cluster create` (no replicas), and resolves once every node reports
   * `cluster_state:ok` with all 16384 slots assigned. Throws with redis-cli's output when it cannot
   * create the cluster, and leaves no server running when it throws.
   */
  static async start(dir: string, masters = 3): Promise<RedisClusterSet> {
    if (!Number.isInteger(masters) || masters < 3) {
      throw new Error(`a Redis Cluster needs at least 3 masters (redis-cli refuses fewer), not ${masters}`);
    }
    const nodes: ClusterNode[] = [];
    try {
      // One after another, so each free port is already taken when the next node looks for one.
      for (let i = 0; i < masters; i++) nodes.push(await ClusterNode.start(resolve(dir)));
      const set = new RedisClusterSet(nodes);
      await redisCli([
        "--cluster",
        "create",
        ...set.ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ]);
      // redis-cli returns once the nodes agree on the configuration; each node declares the cluster ok on its own.
      await until("every node to report cluster_state:ok with all slots assigned", async () =>
        (await Promise.all(set.ports.map(clusterOk))).every(Boolean) ? true : undefined,
      );
      return set;
    } catch (error) {
      await Promise.allSettled(nodes.map((n) => n.stop()));
      throw error;
    }
  }

  /** A `redis+cluster://` state URL naming every master. */
  get url(): string {
    return `redis+cluster://${this.ports.map((p) => `127.0.0.1:${p}`).join(",")}`;
  }

  /** Which master's port serves `key`: the key's hash slot (CLUSTER KEYSLOT) looked up in CLUSTER SLOTS. */
  async portOf(key: string): Promise<number> {
    const [port] = this.ports;
    if (port === undefined) throw new Error("the cluster has no masters");
    return withServer(port, async (server) => {
      const slot = await server.cluster("KEYSLOT", key);
      const ranges = await server.cluster("SLOTS");
      const owner = ranges.find(([start, end]) => start <= slot && slot <= end)?.[2];
      if (owner === undefined) throw new Error(`no master serves slot ${slot} (key '${key}')`);
      return owner[1];
    });
  }

  /**
   * How many times the masters ran `command` (e.g. "evalsha"), as counted by `calls` in their
   * `INFO commandstats`: in total, and for each master's port (0 where it never ran).
   */
  async commandCalls(command: string): Promise<{ total: number; byPort: Map<number, number> }> {
    const prefix = `cmdstat_${command.toLowerCase()}:`;
    const counts = await Promise.all(
      this.ports.map(async (port) => {
        const stats = await withServer(port, (server) => server.info("commandstats"));
        const line = stats.split(/\r?\n/).find((l) => l.startsWith(prefix));
        return [port, Number(line?.match(/\bcalls=(\d+)/)?.[1] ?? 0)] as const;
      }),
    );
    return { total: counts.reduce((sum, [, calls]) => sum + calls, 0), byPort: new Map(counts) };
  }

  /** Stops every server and resolves once they are all gone; calling it again does nothing more. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
