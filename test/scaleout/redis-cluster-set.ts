/**
 * A small Redis Cluster of the test's own: a few cluster-enabled `redis-server`s on free loopback
 * ports, every hash slot assigned, with their files in a directory of the test's: masters only, or
 * with replicas that take over a master that dies. It is what a Redis Cluster deployment looks like
 * to Signalbox's state adapter, and it can say which master a key lives on (after a failover too),
 * which replicas a master has, and how often each master was asked a command, so a test can check
 * that Signalbox's keys and scripts spread over the masters the way Redis Cluster routes them, and
 * kill a master to watch its replica take over.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Redis } from "ioredis";
import { scanAll } from "../../src/state/redis-client.js";
import { redisAnswers, withServer } from "../support/redis-probe.js";
import { EPHEMERAL_ARGS, freePort } from "./redis-process.js";
import { until } from "./redis-sentinel-set.js";

/**
 * TLS for a cluster's nodes: each also listens for TLS clients on a port of its own, and the nodes
 * talk to each other (cluster bus, replication) over TLS. The server certificate doubles as the
 * client certificate on the bus, so it must allow client authentication too.
 */
export interface ClusterTls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** How many hash slots a Redis Cluster divides its keys into. */
const SLOTS = 16_384;

/** Whether the server on `port` reports the cluster healthy (`cluster_state:ok`) with every slot assigned. */
async function clusterOk(port: number): Promise<boolean> {
  try {
    const info = await withServer(port, (server) => server.cluster("INFO"));
    return /^cluster_state:ok\r?$/m.test(info) && new RegExp(`^cluster_slots_assigned:${SLOTS}\\r?$`, "m").test(info);
  } catch {
    return false;
  }
}

/** CLUSTER NODES as the server on the other end of `server` sees the cluster. */
async function nodesOf(server: Redis): Promise<string> {
  return String(await server.call("CLUSTER", "NODES"));
}

/** Whether the server on `port` is a replica whose link to its master is up (INFO replication). */
async function replicaLinkUp(port: number): Promise<boolean> {
  try {
    const info = await withServer(port, (server) => server.info("replication"));
    return /^role:slave\r?$/m.test(info) && /^master_link_status:up\r?$/m.test(info);
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

/**
 * How long a node may not answer before the others count it as failing, ms: short, so that a
 * replica takes over a dead master within a few seconds, yet far above a busy machine's hiccups.
 */
const NODE_TIMEOUT_MS = 2000;

/** One line of CLUSTER NODES: a node's id, port, flags (`master`, `slave`, `fail`, …) and its master's id ("-" for a master). */
interface NodeLine {
  id: string;
  port: number;
  flags: readonly string[];
  master: string;
}

/** Parses CLUSTER NODES (`<id> <ip:port@cport[,hostname]> <flags> <master> …`, one node a line). */
function parseNodes(reply: string): NodeLine[] {
  return reply
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [id = "", address = "", flags = "", master = "-"] = line.split(" ");
      return { id, port: Number(/:(\d+)@/.exec(address)?.[1]), flags: flags.split(","), master };
    });
}

/** A node that is neither marked failing (`fail`, `fail?`) nor without an address (`noaddr`). */
const healthy = (n: NodeLine) => !n.flags.some((f) => f === "fail" || f === "fail?" || f === "noaddr");

/**
 * One cluster-enabled server without persistence, its files (cluster config, log, a replica's first
 * sync) in a directory of its own; a master or a replica, as `redis-cli --cluster create` makes it.
 */
class ClusterNode {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    /** The TLS clients' port, when the node speaks TLS (the plain port stays for the harness's own questions). */
    readonly tlsPort?: number,
  ) {}

  /** Whether the process is still there (not stopped, killed or exited). */
  get running(): boolean {
    return this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts a node with its directory inside `dir` and resolves once it answers PING. */
  static async start(dir: string, tls?: ClusterTls): Promise<ClusterNode> {
    const port = await freePort();
    // The cluster bus gets a free port of its own: its default, port + 10000, lies beyond 65535 for the
    // top of Linux's ephemeral range, and redis-server refuses to start in cluster mode there.
    let busPort = await freePort();
    while (busPort === port) busPort = await freePort();
    let tlsPort: number | undefined;
    while (tls !== undefined && (tlsPort === undefined || tlsPort === port || tlsPort === busPort)) {
      tlsPort = await freePort();
    }
    const tlsArgs =
      tls === undefined
        ? []
        : [
            "--tls-port",
            String(tlsPort),
            "--tls-cert-file",
            tls.cert,
            "--tls-key-file",
            tls.key,
            "--tls-ca-cert-file",
            tls.ca,
            "--tls-cluster",
            "yes",
            "--tls-replication",
            "yes",
          ];
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
        String(NODE_TIMEOUT_MS),
        "--dir",
        nodeDir,
        "--logfile",
        log,
        ...EPHEMERAL_ARGS,
        ...tlsArgs,
      ],
      { stdio: "ignore" },
    );
    let failed: Error | undefined;
    child.once("error", (error) => {
      failed = error;
    });
    const node = new ClusterNode(port, child, tlsPort);
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
    if (!this.running) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  }

  /** Kills the server outright (SIGKILL: no goodbye to its peers or clients) and resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!this.running) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await gone;
  }
}

export class RedisClusterSet {
  /** Loopback ports of the masters as the cluster was created, in start order (a failover does not change them). */
  readonly ports: readonly number[];
  /** Loopback ports of the replicas as the cluster was created (none unless `start` was asked for some). */
  readonly replicaPorts: readonly number[];

  /** The masters `killMaster` killed, by port: the first slot of each range they served, and their replicas then. */
  private readonly killed = new Map<number, { slots: number[]; replicas: number[] }>();

  private constructor(
    private readonly nodes: readonly ClusterNode[],
    masters: readonly number[],
  ) {
    this.ports = [...masters];
    this.replicaPorts = nodes.map((n) => n.port).filter((p) => !masters.includes(p));
  }

  /**
   * Starts `masters` cluster-enabled servers, and `replicas` more for each, with their files in
   * `dir`; joins them into one cluster with `redis-cli --cluster create --cluster-replicas
   * <replicas>`, and resolves once every node reports `cluster_state:ok` with all 16384 slots
   * assigned and every replica reports its link to its master up (`master_link_status:up`). Throws
   * with redis-cli's output when it cannot create the cluster, and leaves no server running when it
   * throws.
   */
  static async start(dir: string, masters = 3, replicas = 0, tls?: ClusterTls): Promise<RedisClusterSet> {
    if (!Number.isInteger(masters) || masters < 3) {
      throw new Error(`a Redis Cluster needs at least 3 masters (redis-cli refuses fewer), not ${masters}`);
    }
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new Error(`replicas per master must be a whole number, 0 or more, not ${replicas}`);
    }
    const nodes: ClusterNode[] = [];
    try {
      // One after another, so each free port is already taken when the next node looks for one.
      for (let i = 0; i < masters * (1 + replicas); i++) nodes.push(await ClusterNode.start(resolve(dir), tls));
      const all = nodes.map((n) => n.port);
      await redisCli([
        "--cluster",
        "create",
        ...all.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        String(replicas),
        "--cluster-yes",
      ]);
      // redis-cli returns once the nodes agree on the configuration; each node declares the cluster ok
      // on its own, and a replica's first sync with its master follows.
      await until("every node to report cluster_state:ok with all slots assigned", async () =>
        (await Promise.all(all.map(clusterOk))).every(Boolean) ? true : undefined,
      );
      // redis-cli picks which nodes are masters (on one host, the first ones given): ask the cluster,
      // waiting until the node asked has heard of every replica (roles spread by gossip).
      const roles = await until(`${masters} masters, every other node a replica`, async () => {
        const lines = await withServer(all[0] as number, async (server) => parseNodes(await nodesOf(server)));
        const masterCount = lines.filter((l) => l.flags.includes("master")).length;
        return lines.length === all.length &&
          masterCount === masters &&
          lines.every((l) => l.flags.includes("master") || l.master !== "-")
          ? lines
          : undefined;
      });
      const masterPorts = all.filter((p) => roles.find((l) => l.port === p)?.flags.includes("master"));
      const set = new RedisClusterSet(nodes, masterPorts);
      await until("every replica's link to its master to be up", async () => {
        const links = await Promise.all(set.replicaPorts.map(replicaLinkUp));
        return links.every(Boolean) ? true : undefined;
      });
      return set;
    } catch (error) {
      await Promise.allSettled(nodes.map((n) => n.stop()));
      throw error;
    }
  }

  /**
   * A `rediss+cluster://` state URL naming every master's TLS port (a cluster started with TLS);
   * TLS clients learn the others' TLS ports from the cluster.
   */
  get tlsUrl(): string {
    const tlsPorts = this.ports.map((port) => this.nodes.find((n) => n.port === port)?.tlsPort);
    if (tlsPorts.some((p) => p === undefined)) throw new Error("this cluster was started without TLS");
    return `rediss+cluster://${tlsPorts.map((p) => `127.0.0.1:${p}`).join(",")}`;
  }

  /** A `redis+cluster://` state URL naming every master. */
  get url(): string {
    return `redis+cluster://${this.ports.map((p) => `127.0.0.1:${p}`).join(",")}`;
  }

  /** Ports of the nodes whose process is still running (not killed or stopped). */
  get livePorts(): number[] {
    return this.nodes.filter((n) => n.running).map((n) => n.port);
  }

  /**
   * Runs `use` on a one-off connection to a node still running (the first that answers): what a
   * cluster-wide question (CLUSTER SLOTS, CLUSTER NODES) is asked of once a node has been killed.
   */
  private async withAnyNode<T>(use: (server: Redis) => Promise<T>): Promise<T> {
    let last: unknown = new Error("no node of the cluster is running");
    for (const port of this.livePorts) {
      try {
        return await withServer(port, use);
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }

  /**
   * Which master's port serves `key`: the key's hash slot (CLUSTER KEYSLOT) looked up in CLUSTER
   * SLOTS, asked of a node still running. After a master dies, this names it until the cluster has
   * promoted its replica (see `failedOver`), then the replica.
   */
  async portOf(key: string): Promise<number> {
    return this.withAnyNode(async (server) => {
      const slot = await server.cluster("KEYSLOT", key);
      const ranges = await server.cluster("SLOTS");
      const owner = ranges.find(([start, end]) => start <= slot && slot <= end)?.[2];
      if (owner === undefined) throw new Error(`no master serves slot ${slot} (key '${key}')`);
      return owner[1];
    });
  }

  /** The ports of the replicas of the master on `port` that the cluster counts as healthy (CLUSTER NODES). */
  async replicasOf(port: number): Promise<number[]> {
    return this.withAnyNode(async (server) => {
      const lines = parseNodes(await nodesOf(server));
      const master = lines.find((l) => l.port === port);
      if (!master?.flags.includes("master")) throw new Error(`no master on port ${port} in CLUSTER NODES`);
      return lines.filter((l) => l.master === master.id && l.flags.includes("slave") && healthy(l)).map((l) => l.port);
    });
  }

  /**
   * Kills the master on `port` outright (SIGKILL: its replicas and clients see their connections
   * drop, its peers see it stop answering) and resolves once its process is gone. It does not wait
   * for the failover (see `failedOver`); `stop` afterwards stops the others and leaves it be. Throws
   * when `port` is not a master of this cluster now.
   */
  async killMaster(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port);
    if (node === undefined || !node.running) throw new Error(`no running node of this cluster on port ${port}`);
    const [slots, replicas] = await this.withAnyNode(async (server) => {
      const ranges = await server.cluster("SLOTS");
      return [
        ranges.filter(([, , owner]) => owner?.[1] === port).map(([start]) => start),
        parseNodes(await nodesOf(server)),
      ];
    });
    if (slots.length === 0) throw new Error(`the node on port ${port} serves no slots: not a master`);
    const id = replicas.find((l) => l.port === port)?.id;
    this.killed.set(port, {
      slots,
      replicas: replicas.filter((l) => id !== undefined && l.master === id).map((l) => l.port),
    });
    await node.kill();
  }

  /**
   * Resolves with the port of the replica that took over from the master `killMaster` killed on
   * `port`, once every node still running reports `cluster_state:ok` and names that replica in
   * CLUSTER SLOTS for all of the dead master's slots, and the replica reports itself a master (INFO
   * replication). Throws after `ms`.
   */
  async failedOver(port: number, ms = 30_000): Promise<number> {
    const dead = this.killed.get(port);
    if (dead === undefined) throw new Error(`the master on port ${port} was not killed with killMaster`);
    return until(
      `a replica to take over from the master on port ${port}`,
      async () => {
        const views = await Promise.all(
          this.livePorts.map((p) =>
            withServer(p, async (server) => ({
              info: await server.cluster("INFO"),
              slots: await server.cluster("SLOTS"),
            })).catch(() => undefined),
          ),
        );
        const owners = new Set<number>();
        for (const view of views) {
          if (view === undefined || !/^cluster_state:ok\r?$/m.test(view.info)) return undefined;
          for (const first of dead.slots) {
            owners.add(view.slots.find(([start, end]) => start <= first && first <= end)?.[2]?.[1] ?? port);
          }
        }
        const [next] = owners;
        if (next === undefined || owners.size !== 1 || !dead.replicas.includes(next)) return undefined;
        const role = await withServer(next, (server) => server.info("replication")).catch(() => "");
        return /^role:master\r?$/m.test(role) ? next : undefined;
      },
      ms,
    );
  }

  /**
   * How many times the masters ran `command` (e.g. "evalsha"), as counted by `calls` in their
   * `INFO commandstats`: in total, and for each master's port (0 where it never ran). It asks the
   * masters as the cluster was created (`ports`), so it throws once one of them has been killed.
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

  /** The keys matching `pattern` that the server on `port` holds (SCAN on a one-off connection). */
  async keysOn(port: number, pattern: string): Promise<string[]> {
    return withServer(port, (server) => scanAll(server, pattern));
  }

  /**
   * Moves `slot` to the master on `toPort`, as `redis-cli --cluster reshard` does: the target marks
   * it importing, the source migrating, the source's keys of the slot go over with MIGRATE, then
   * every master is told the slot's new owner. With `finish: false` it stops after the keys have
   * moved, leaving the slot migrating (the source still named its owner, redirecting with ASK), as
   * a resharding looks while under way; `migrateSlot` again with the same target finishes it. Throws
   * when `toPort` is not a master, or already serves the slot.
   */
  async migrateSlot(slot: number, toPort: number, finish = true): Promise<void> {
    const [ranges, lines] = await this.withAnyNode(async (server) => [
      await server.cluster("SLOTS"),
      parseNodes(await nodesOf(server)),
    ]);
    const fromPort = ranges.find(([start, end]) => start <= slot && slot <= end)?.[2]?.[1];
    const from = lines.find((l) => l.port === fromPort);
    const to = lines.find((l) => l.port === toPort);
    if (from === undefined) throw new Error(`no master serves slot ${slot}`);
    if (!to?.flags.includes("master")) throw new Error(`no master on port ${toPort}`);
    if (from.id === to.id) throw new Error(`slot ${slot} is already served by the master on port ${toPort}`);
    await withServer(toPort, (server) => server.call("CLUSTER", "SETSLOT", slot, "IMPORTING", from.id));
    await withServer(from.port, async (server) => {
      await server.call("CLUSTER", "SETSLOT", slot, "MIGRATING", to.id);
      for (;;) {
        const keys = (await server.call("CLUSTER", "GETKEYSINSLOT", slot, 100)) as string[];
        if (keys.length === 0) break;
        await server.call("MIGRATE", "127.0.0.1", toPort, "", 0, 5000, "KEYS", ...keys);
      }
    });
    if (!finish) return;
    // The target first, so that the slot is never owned by nobody; then the source and the rest.
    const masters = lines.filter((l) => l.flags.includes("master") && healthy(l)).map((l) => l.port);
    for (const port of [toPort, from.port, ...masters.filter((p) => p !== toPort && p !== from.port)]) {
      await withServer(port, (server) => server.call("CLUSTER", "SETSLOT", slot, "NODE", to.id));
    }
    await until(`every master to name port ${toPort} as the owner of slot ${slot}`, async () => {
      const owners = await Promise.all(
        masters.map((port) =>
          withServer(port, async (server) => {
            const view = await server.cluster("SLOTS");
            return view.find(([start, end]) => start <= slot && slot <= end)?.[2]?.[1];
          }),
        ),
      );
      return owners.every((owner) => owner === toPort) ? true : undefined;
    });
  }

  /** Stops every server still running and resolves once they are all gone; calling it again does nothing more. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
