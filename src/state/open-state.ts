/** Opens the state store a `--state` URL names: `memory:`, `sqlite:[///path]` (the default) or `redis://…`. */

import { isAbsolute, join } from "node:path";
import { isSignalboxError, SignalboxError } from "../errors/signalbox-error.js";
import { maskUrl } from "./mask-url.js";
import { MemoryStateStore } from "./memory.js";
import type { StateStore } from "./port.js";
import { RedisStateStore } from "./redis.js";
import { isMultiHostScheme, redisTarget, splitStateUrl } from "./redis-target.js";
import { readTls } from "./redis-tls.js";
import { SqliteStateStore } from "./sqlite.js";
import { configuredLease, LEASE_RULE } from "./sqlite-lock.js";

export { maskUrl };

/**
 * `memory:` keeps state in the process; `sqlite:` (or no URL) uses `<dataDir>/state.db`,
 * `sqlite:///abs/file.db` an absolute file and `sqlite:file.db` a file under `dataDir`, with
 * `?strict=true` for `synchronous=FULL`; `redis://[user:password@]host:port/db` (or `rediss://`)
 * shares state through Redis, `redis+sentinel://host:port[,host:port…]/<primary name>/db` (or
 * `rediss+sentinel://`) through the primary a set of Redis Sentinels names, and
 * `redis+cluster://host:port[,host:port…]` (or `rediss+cluster://`) through a Redis Cluster
 * (`redis-target.ts`); all with `?prefix=sb:`, `?timeout_ms=1000`, `?population_refresh_ms=1000`
 * (how old a node's copy of the population profiles may get; 0 reads them every time) and
 * `?profile_cache_size=10000` (how many identity profiles a node keeps a version-checked copy of; 0
 * none), and on a Cluster `?cluster_split=node` (the default, on Redis 7 and later) or `slot`; with
 * TLS, `?tls_ca=FILE` and `?tls_cert=FILE&tls_key=FILE` (`redis-tls.ts`). A Redis store is
 * connected before it is returned, so a wrong address fails at startup.
 */
export async function openStateStore(url: string | undefined, dataDir: string): Promise<StateStore> {
  const spec = url?.trim() ?? "";
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(spec)?.[1]?.toLowerCase() ?? "";
  if (spec === "" || scheme === "sqlite") return openSqlite(spec, dataDir);
  if (scheme === "memory") return new MemoryStateStore();
  if (scheme === "redis" || scheme === "rediss" || isMultiHostScheme(scheme)) {
    return openRedis(spec, scheme);
  }
  throw new SignalboxError(
    "CONFIG_INVALID",
    `state URL '${maskUrl(spec)}' is not supported: use memory:, sqlite:, sqlite:///path/state.db, redis://host:port/db, redis+sentinel://host:port[,host:port]/primary-name/db or redis+cluster://host:port[,host:port]`,
  );
}

function openSqlite(spec: string, dataDir: string): Promise<StateStore> {
  const [target = "", query = ""] = spec.replace(/^sqlite:/i, "").split("?", 2);
  const params = new URLSearchParams(query);
  const path = target.startsWith("//") ? target.slice(2) : target;
  const file = path === "" ? join(dataDir, "state.db") : isAbsolute(path) ? path : join(dataDir, path);
  const lease = params.get("lease_ms");
  const leaseMs = lease === null ? undefined : configuredLease(lease);
  if (lease !== null && leaseMs === undefined) {
    throw new SignalboxError("CONFIG_INVALID", `lease_ms '${lease}' in state URL '${maskUrl(spec)}' ${LEASE_RULE}`);
  }
  return SqliteStateStore.open({
    file,
    strict: flag(params.get("strict"), spec),
    ...(leaseMs !== undefined ? { leaseMs } : {}),
  });
}

/** A whole-number query parameter of a state URL, at least `min`; undefined when absent. */
function wholeNumberParam(
  params: URLSearchParams,
  name: string,
  min: 0 | 1,
  unit: string,
  spec: string,
): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= min) return n;
  throw new SignalboxError(
    "CONFIG_INVALID",
    `${name} '${raw}' in state URL '${maskUrl(spec)}' must be a whole number of ${unit}${min === 1 ? " above 0" : ", 0 or more"}`,
  );
}

async function openRedis(spec: string, scheme: string): Promise<StateStore> {
  const { connection: url, params } = splitStateUrl(spec);
  const keyPrefix = params.get("prefix") ?? undefined;
  const commandTimeoutMs = wholeNumberParam(params, "timeout_ms", 1, "milliseconds", spec);
  const populationRefreshMs = wholeNumberParam(params, "population_refresh_ms", 0, "milliseconds", spec);
  const profileCacheSize = wholeNumberParam(params, "profile_cache_size", 0, "profiles", spec);
  const clusterSplit = params.get("cluster_split");
  if (clusterSplit !== null && clusterSplit !== "node" && clusterSplit !== "slot") {
    throw new SignalboxError(
      "CONFIG_INVALID",
      `cluster_split '${clusterSplit}' in state URL '${maskUrl(spec)}' must be node or slot`,
    );
  }
  if (!isMultiHostScheme(scheme)) {
    try {
      new URL(url);
    } catch {
      throw new SignalboxError("CONFIG_INVALID", `state URL '${maskUrl(spec)}' is not a valid redis URL`);
    }
  }
  // A Sentinel or Cluster URL's parts are checked here, so a mistake names the URL as the operator wrote it.
  redisTarget(url, maskUrl(spec));
  const tls = readTls(scheme, params, maskUrl(spec));
  const store = new RedisStateStore({
    url,
    keyPrefix,
    commandTimeoutMs,
    ...(populationRefreshMs !== undefined ? { populationRefreshMs } : {}),
    ...(profileCacheSize !== undefined ? { profileCacheSize } : {}),
    ...(clusterSplit === "slot" ? { crossSlotScripts: false } : {}),
    ...(tls !== undefined ? { tls } : {}),
  });
  try {
    await store.ready();
  } catch (err) {
    await store.close();
    // Reached, but not usable as configured (e.g. a Cluster node): say so, not "cannot reach".
    if (isSignalboxError(err) && err.code === "CONFIG_INVALID") {
      throw new SignalboxError("CONFIG_INVALID", `state store at '${maskUrl(spec)}': ${err.message}`, { cause: err });
    }
    const reason = isSignalboxError(err) ? err.message : String(err);
    throw new SignalboxError("STATE_UNAVAILABLE", `cannot reach the state store at '${maskUrl(spec)}': ${reason}`, {
      cause: err,
    });
  }
  return store;
}

function flag(value: string | null, spec: string): boolean {
  if (value === null || value === "false" || value === "0") return false;
  if (value === "true" || value === "1" || value === "") return true;
  throw new SignalboxError("CONFIG_INVALID", `strict '${value}' in state URL '${maskUrl(spec)}' must be true or false`);
}
