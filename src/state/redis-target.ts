/**
 * Where the Redis state adapter connects, from its URL (with Signalbox's own parameters already
 * taken out): one server (`redis://`, `rediss://`, read by ioredis itself), the primary that a
 * set of Redis Sentinels names (`redis+sentinel://`, `rediss+sentinel://`), or a Redis Cluster
 * (`redis+cluster://`, `rediss+cluster://`); the last two are read here, since a URL with several
 * hosts is not one that `new URL` or ioredis accepts.
 *
 *   redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/<primary name>[/<db>]
 *                    [?sentinel_username=…&sentinel_password=…]
 *
 * The user and password are the primary's (and its replicas'); `sentinel_username` and
 * `sentinel_password` are the sentinels' own, when they require one. A sentinel's port defaults
 * to 26379; IPv6 addresses go in brackets. `rediss+sentinel://` speaks TLS to the sentinels and
 * to the primary.
 *
 *   redis+cluster://[[user]:password@]host[:port][,host[:port]…][/0]
 *
 * names some nodes of a Redis Cluster (any of them; the client learns the rest from them), port
 * 6379 by default. A cluster has only database 0. `rediss+cluster://` speaks TLS to every node.
 */

import { SignalboxError } from "../errors/signalbox-error.js";

export interface HostAddress {
  readonly host: string;
  readonly port: number;
}

/** A sentinel's address. */
export type SentinelAddress = HostAddress;

export type RedisTarget =
  | { readonly kind: "server"; readonly url: string }
  | {
      readonly kind: "sentinel";
      readonly sentinels: readonly SentinelAddress[];
      /** The primary's name in the sentinels' configuration (`sentinel monitor <name> …`). */
      readonly name: string;
      readonly db: number;
      readonly username?: string;
      readonly password?: string;
      readonly sentinelUsername?: string;
      readonly sentinelPassword?: string;
      readonly tls: boolean;
    }
  | {
      readonly kind: "cluster";
      /** Nodes to learn the cluster from. */
      readonly nodes: readonly HostAddress[];
      readonly username?: string;
      readonly password?: string;
      readonly tls: boolean;
    };

export const SENTINEL_SCHEMES = ["redis+sentinel", "rediss+sentinel"] as const;

export const CLUSTER_SCHEMES = ["redis+cluster", "rediss+cluster"] as const;

/** Whether a URL scheme (lower case) names Redis through Sentinel. */
export function isSentinelScheme(scheme: string): boolean {
  return (SENTINEL_SCHEMES as readonly string[]).includes(scheme);
}

/** Whether a URL scheme (lower case) names a Redis Cluster. */
export function isClusterScheme(scheme: string): boolean {
  return (CLUSTER_SCHEMES as readonly string[]).includes(scheme);
}

/** Whether a URL scheme (lower case) names several hosts (Sentinel or Cluster): read here, not by `new URL`. */
export function isMultiHostScheme(scheme: string): boolean {
  return isSentinelScheme(scheme) || isClusterScheme(scheme);
}

/** Signalbox's own parameters of a Redis state URL; the rest of its query belongs to the connection. */
export const OWN_PARAMS = [
  "prefix",
  "timeout_ms",
  "population_refresh_ms",
  "profile_cache_size",
  "cluster_split",
  "tls_ca",
  "tls_cert",
  "tls_key",
  "tls_servername",
] as const;

/**
 * A Redis state URL's parameters, and the URL without Signalbox's own (`OWN_PARAMS`): what the
 * connection is made from. Split by hand, since a Sentinel URL names several hosts and `new URL`
 * refuses it.
 */
export function splitStateUrl(spec: string): { readonly connection: string; readonly params: URLSearchParams } {
  const queryAt = spec.indexOf("?");
  const base = queryAt === -1 ? spec : spec.slice(0, queryAt);
  const params = new URLSearchParams(queryAt === -1 ? "" : spec.slice(queryAt + 1));
  const rest = new URLSearchParams(params);
  for (const name of OWN_PARAMS) rest.delete(name);
  const query = rest.toString();
  return { connection: query === "" ? base : `${base}?${query}`, params };
}
const DEFAULT_SENTINEL_PORT = 26379;
const DEFAULT_REDIS_PORT = 6379;
const SENTINEL_PARAMS = new Set(["sentinel_username", "sentinel_password"]);

function invalid(shown: string, why: string): SignalboxError {
  return new SignalboxError("CONFIG_INVALID", `state URL '${shown}' ${why}`);
}

function decoded(text: string, what: string, shown: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(shown, `has a badly escaped ${what}`);
  }
}

/** `host[:port]` (IPv6 in brackets) of a node or sentinel (`what`), `defaultPort` when none is given. */
function hostAddress(entry: string, shown: string, what: string, defaultPort: number): HostAddress {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d*))?$/.exec(entry);
  const plain = /^([^:[\]]+)(?::(\d*))?$/.exec(entry);
  const match = bracketed ?? plain;
  if (!match?.[1]) throw invalid(shown, `names a ${what} '${entry}' that is not host[:port]`);
  const portText = match[2];
  const port = portText === undefined || portText === "" ? defaultPort : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw invalid(shown, `names a ${what} '${entry}' whose port is not between 1 and 65535`);
  }
  return { host: match[1], port };
}

/** A multi-host URL taken apart: its user and password, hosts, path and query. */
interface MultiHostParts {
  readonly username?: string;
  readonly password?: string;
  readonly hosts: string;
  readonly path: string;
  readonly params: URLSearchParams;
}

function multiHostParts(url: string, scheme: string, shown: string): MultiHostParts {
  const rest = url.slice(scheme.length + 3);
  const queryAt = rest.indexOf("?");
  const beforeQuery = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const params = new URLSearchParams(queryAt === -1 ? "" : rest.slice(queryAt + 1));
  const slash = beforeQuery.indexOf("/");
  const authority = slash === -1 ? beforeQuery : beforeQuery.slice(0, slash);
  const path = slash === -1 ? "" : beforeQuery.slice(slash + 1);
  const at = authority.lastIndexOf("@");
  const userinfo = at === -1 ? undefined : authority.slice(0, at);
  const hosts = at === -1 ? authority : authority.slice(at + 1);
  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(":");
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon);
    if (user !== "") username = decoded(user, "user name", shown);
    if (colon !== -1) password = decoded(userinfo.slice(colon + 1), "password", shown);
  }
  return {
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    hosts,
    path,
    params,
  };
}

/** A Cluster URL's nodes and credentials; it takes no parameters of its own and only database 0. */
function clusterTarget(url: string, scheme: string, shown: string): RedisTarget {
  const { username, password, hosts, path, params } = multiHostParts(url, scheme, shown);
  for (const name of params.keys()) {
    throw invalid(shown, `has a parameter '${name}' that a Cluster URL does not take (only Signalbox's own)`);
  }
  if (hosts === "") throw invalid(shown, "names no cluster node: give host[:port][,host[:port]…]");
  if (path !== "" && path !== "0") {
    throw invalid(shown, `has a path '/${path}': a Redis Cluster has only database 0 (leave the path out)`);
  }
  return {
    kind: "cluster",
    nodes: hosts.split(",").map((entry) => hostAddress(entry, shown, "cluster node", DEFAULT_REDIS_PORT)),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    tls: scheme === "rediss+cluster",
  };
}

/**
 * Reads a state URL's target. `shown` is the URL as error messages may print it (password masked).
 * A `redis://` or `rediss://` URL is passed on whole; a Sentinel URL is checked part by part.
 */
export function redisTarget(url: string, shown: string): RedisTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase() ?? "";
  if (isClusterScheme(scheme)) return clusterTarget(url, scheme, shown);
  if (!isSentinelScheme(scheme)) return { kind: "server", url };
  const { username, password, hosts, path, params } = multiHostParts(url, scheme, shown);
  for (const name of params.keys()) {
    if (!SENTINEL_PARAMS.has(name)) {
      throw invalid(
        shown,
        `has a parameter '${name}' that a Sentinel URL does not take (it takes ${[...SENTINEL_PARAMS].join(", ")}, and Signalbox's own)`,
      );
    }
  }
  if (hosts === "") throw invalid(shown, "names no sentinel: give host[:port][,host[:port]…]");
  const sentinels = hosts.split(",").map((entry) => hostAddress(entry, shown, "sentinel", DEFAULT_SENTINEL_PORT));

  const [name = "", dbText, ...extra] = path.split("/");
  if (name === "") throw invalid(shown, "names no primary: give its Sentinel name after the hosts (…:26379/mymaster)");
  if (extra.length > 0) throw invalid(shown, "has a path longer than /<primary name>/<db>");
  const db = dbText === undefined || dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw invalid(shown, `has a database '${dbText}' that is not a whole number`);

  const sentinelUsername = params.get("sentinel_username") ?? undefined;
  const sentinelPassword = params.get("sentinel_password") ?? undefined;
  return {
    kind: "sentinel",
    sentinels,
    name: decoded(name, "primary name", shown),
    db,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(sentinelUsername !== undefined ? { sentinelUsername } : {}),
    ...(sentinelPassword !== undefined ? { sentinelPassword } : {}),
    tls: scheme === "rediss+sentinel",
  };
}
