/**
 * The ioredis client a Redis state URL's target needs (one server, through Sentinel, or a Cluster),
 * and what the state adapter asks of a Cluster's topology: which primary serves each slot, and the
 * keys a server holds.
 */

import { Cluster, Redis, type RedisOptions } from "ioredis";
import { CLUSTER_SLOTS } from "./redis-cluster-slot.js";
import type { RedisTarget } from "./redis-target.js";
import type { RedisTls } from "./redis-tls.js";

/** Which primary serves each slot, as `<first slot>:<host:port>` for each run of slots. */
export function slotOwners(cluster: Cluster): string {
  let out = "";
  let last: string | undefined;
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const owner = cluster.slots[slot]?.[0] ?? "";
    if (owner !== last) {
      out += `${slot}:${owner},`;
      last = owner;
    }
  }
  return out;
}

/** Every key matching `pattern` on one server (SCAN). */
export async function scanAll(node: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = "0";
  do {
    const [nextCursor, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = nextCursor;
    out.push(...keys);
  } while (cursor !== "0");
  return out;
}

/**
 * The ioredis client for a target: one connection, one through Sentinel, or a Cluster client. `tls`
 * (given only with a TLS URL) replaces the system's trust and adds a client certificate on every
 * connection: the server's, the sentinels', each Cluster node's.
 */
export function client(target: RedisTarget, common: RedisOptions, timeoutMs: number, tls?: RedisTls): Redis | Cluster {
  const credentials = (t: { username?: string; password?: string }) => ({
    ...(t.username !== undefined ? { username: t.username } : {}),
    ...(t.password !== undefined ? { password: t.password } : {}),
  });
  switch (target.kind) {
    case "server":
      return new Redis(target.url, tls !== undefined ? { ...common, tls: { ...tls } } : common);
    case "sentinel":
      return quietSentinelClients(
        new Redis({
          ...common,
          sentinels: target.sentinels.map((a) => ({ host: a.host, port: a.port })),
          name: target.name,
          db: target.db,
          ...credentials(target),
          ...(target.sentinelUsername !== undefined ? { sentinelUsername: target.sentinelUsername } : {}),
          ...(target.sentinelPassword !== undefined ? { sentinelPassword: target.sentinelPassword } : {}),
          ...(target.tls ? { tls: { ...tls }, sentinelTLS: { ...tls }, enableTLSForSentinelMode: true } : {}),
          sentinelCommandTimeout: timeoutMs,
          // Hear of a failover from the sentinels at once, rather than at the next failed call.
          failoverDetector: true,
        }),
      );
    case "cluster": {
      const { lazyConnect, enableAutoPipelining, retryStrategy, enableOfflineQueue, ...perNode } = common;
      return new Cluster(
        target.nodes.map((a) => ({ host: a.host, port: a.port })),
        {
          lazyConnect,
          enableAutoPipelining,
          enableOfflineQueue,
          clusterRetryStrategy: retryStrategy ?? null,
          slotsRefreshTimeout: timeoutMs,
          // A redirection (MOVED, ASK) is followed at once; a failover is waited out by the caller's timeout.
          retryDelayOnFailover: 100,
          // A script call may name keys of several slots of one node (ADR 0020), which ioredis's
          // automatic pipelines refuse: script calls are written at once (one per node per turn).
          autoPipeliningIgnoredCommands: ["evalsha", "eval"],
          redisOptions: { ...perNode, ...credentials(target), ...(target.tls ? { tls: { ...tls } } : {}) },
        },
      );
    }
  }
}

/**
 * ioredis's Sentinel failover detector opens connections of its own to the sentinels and gives them
 * no error listener, so when one of them fails ioredis prints "[ioredis] Unhandled error event" to
 * stderr, outside the service's logs (seen when a store closes while its detector is connecting over
 * TLS; redis/ioredis#1600 reports it with a sentinel down). Those connections are made by the
 * connector's `connectToSentinel`: wrapped here, each one gets a listener that ignores its errors.
 * Nothing is lost: what matters surfaces through the calls (a primary the client cannot reach fails
 * them, within the store's timeout). Should a later ioredis make them elsewhere, this does nothing
 * and `test/state/redis-sentinel-clients.test.ts` fails.
 */
function quietSentinelClients(redis: Redis): Redis {
  type Connector = { connectToSentinel?: (this: unknown, ...args: unknown[]) => Redis };
  const connector = (redis as unknown as { connector?: Connector }).connector;
  const original = connector?.connectToSentinel;
  if (connector === undefined || typeof original !== "function") return redis;
  connector.connectToSentinel = function (this: unknown, ...args: unknown[]): Redis {
    const sentinel = original.apply(this, args);
    sentinel.on("error", () => {});
    return sentinel;
  };
  return redis;
}
