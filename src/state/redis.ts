/**
 * The Redis state adapter: state shared by many decision nodes, one round trip per read and per write.
 * The script calls of the reads and writes issued in one event-loop turn are coalesced
 * (redis-read-batch.ts, redis-write-batch.ts), population profiles are served from a node-local
 * copy refreshed every `populationRefreshMs` (redis-population.ts), and identity profiles from
 * node-local copies checked by version on every read (redis-profile-cache.ts, ADR 0018).
 */

import { Cluster, type Redis, Command as RedisCommand, type RedisOptions } from "ioredis";
import { isSignalboxError, SignalboxError } from "../errors/signalbox-error.js";
import type { JsonObject } from "../model/request.js";
import { maskUrl } from "./mask-url.js";
import {
  bucketOf,
  type ClaimRead,
  COUNTER_BUCKETS,
  type CounterRead,
  oldestBucket,
  type PendingDecision,
  type Profile,
  type StateQuery,
  type StateSnapshot,
  type StateStore,
  type StateStoreStats,
  type StateUpdate,
} from "./port.js";
import { isStorableKey } from "./profile-ops.js";
import { client, scanAll, slotOwners } from "./redis-client.js";
import { keySlot } from "./redis-cluster-slot.js";
import { type GroupOf, slotMoved, splitRead, splitWrite } from "./redis-cluster-split.js";
import { PartFailed, PartialWriteFailure } from "./redis-part-failure.js";
import { PopulationCache } from "./redis-population.js";
import { type CopyOp, ProfileCopies, type ProfileCopy } from "./redis-profile-cache.js";
import { parseProfile, readProfileHash, type StoredHash } from "./redis-profile-hash.js";
import { type ProfileCheckArgs, ReadBatcher, readArgs, readKeys, type ScriptRead } from "./redis-read-batch.js";
import { CROSS_SLOT, INDEX_SUFFIX, OP, READ, type RedisScript, SCRIPTS, WRITE } from "./redis-scripts.js";
import { redisTarget } from "./redis-target.js";
import type { RedisTls } from "./redis-tls.js";
import { WriteBatcher } from "./redis-write-batch.js";

export interface RedisStateOptions {
  /**
   * `redis://[user:password@]host:port/db` (or `rediss://` for TLS), or
   * `redis+sentinel://host:port[,host:port…]/<primary name>/db` (or `rediss+sentinel://`) for the
   * primary a set of Redis Sentinels names, or `redis+cluster://host:port[,host:port…]` (or
   * `rediss+cluster://`) for a Redis Cluster (see `redis-target.ts`).
   */
  url: string;
  /** With a TLS URL: the certificates to trust and a client certificate, as PEM (`redis-tls.ts`). */
  tls?: RedisTls;
  /** Prefix of every key, e.g. `sb:` (the default); lets several deployments share one Redis. */
  keyPrefix?: string;
  /** Most time one call may wait for Redis (or for the first connection) before it rejects. Default 1000 ms. */
  commandTimeoutMs?: number;
  /** Sliding retention of a profile after its last write. Default 180 days. */
  profileTtlMs?: number;
  /**
   * Oldest a node-local copy of a population profile (`global:*`) may be when a read uses it, in ms.
   * Default 1000; 0 reads them from Redis on every read like any other profile. See `PopulationCache`.
   */
  populationRefreshMs?: number;
  /**
   * Most identity profiles this node keeps a copy of, checked by version on every read (ADR 0018).
   * Default 10,000; 0 keeps none and reads every profile with `HGETALL`. See `ProfileCopies`.
   */
  profileCacheSize?: number;
  /**
   * Send the script calls of the reads (their counters and claims) and of the writes issued in one
   * event-loop turn as one call each (default true). False sends one script call per read and write.
   */
  coalesce?: boolean;
  /**
   * On a Redis Cluster whose primaries all run Redis 7 or later, split script calls by node, with
   * scripts that may reach keys of several slots (default true); false splits them by slot, as on
   * older servers (ADR 0020).
   */
  crossSlotScripts?: boolean;
}

const DAY_MS = 86_400_000;
const NO_COPY_OPS: readonly CopyOp[] = Object.freeze([]);
let instances = 0;

/** Replies of one pipeline: per command, an error or a result. */
type Replies = [Error | null, unknown][];
/** One command of a pipeline: its name, then its arguments. */
type Command = (string | number)[];

export class RedisStateStore implements StateStore {
  readonly kind = "redis";
  /**
   * Round trips to Redis so far (one per script or command sent); a decision's read and write cost
   * one each. On a Cluster, the parts of a split call travel to their nodes together and count once.
   */
  roundTrips = 0;
  /** The Redis client name (`CLIENT LIST`) of this store's connection, unique per store. */
  readonly connectionName = `signalbox-state-${process.pid}-${++instances}`;
  private readonly redis: Redis | Cluster;
  /** Talking to a Redis Cluster: script calls are split by node or hash slot (ADR 0020). */
  readonly cluster: boolean;
  /**
   * Every primary of the Cluster runs Redis 7 or later: calls are split by the node serving their
   * keys' slots, with the scripts flagged `allow-cross-slot-keys`, rather than by slot (ADR 0020).
   */
  private crossSlot = false;
  private readonly allowCrossSlot: boolean;
  /** Which call of a split a key goes in. */
  private readonly groupOf: GroupOf = (key) => {
    const slot = keySlot(key);
    return (this.crossSlot ? (this.redis as Cluster).slots[slot]?.[0] : undefined) ?? slot;
  };
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly profileTtlMs: number;
  private readonly population: PopulationCache;
  /** This node's copies of identity profiles, each with the version of the hash it equals. */
  readonly copies: ProfileCopies;
  /** Coalesces the counters, claims and profile checks of the reads of one event-loop turn into one script call. */
  readonly reads = new ReadBatcher((read) => this.sendRead(read));
  /** Coalesces the writes of one event-loop turn into one script call. */
  readonly writes = new WriteBatcher((keys, ops, copyOps) => this.sendWrite(keys, ops, copyOps));
  private readonly coalesce: boolean;
  private scriptsLoaded = false;
  /** The `run_id` of the Redis server this store last connected to. */
  private serverRunId: string | undefined;
  /** The client's last connection error, for a failed connect's message. */
  private connectionError: string | undefined;
  /**
   * Reconnections that reached a different server than the one before (failover, restart); on a
   * Cluster, refreshes of the slot table that found a slot on another primary.
   */
  serverChanges = 0;
  /**
   * On a Cluster: parts of split calls sent again by slot because a key's slot was found on another
   * primary (a resharding), for diagnostics and tests.
   */
  slotMovedRetries = 0;
  /** On a Cluster: the primary of every slot at the last refresh, as ranges (`slotOwners`). */
  private slotOwners: string | undefined;
  private closed = false;

  constructor(options: RedisStateOptions) {
    this.prefix = options.keyPrefix ?? "sb:";
    if (/[{}]/.test(this.prefix)) {
      throw new SignalboxError("CONFIG_INVALID", `redis key prefix '${this.prefix}' must not contain braces`);
    }
    this.timeoutMs = options.commandTimeoutMs ?? 1000;
    this.profileTtlMs = options.profileTtlMs ?? 180 * DAY_MS;
    const refreshMs = options.populationRefreshMs ?? 1000;
    if (!(Number.isFinite(refreshMs) && refreshMs >= 0)) {
      throw new SignalboxError("CONFIG_INVALID", `populationRefreshMs ${refreshMs} must be 0 or more milliseconds`);
    }
    this.population = new PopulationCache(refreshMs);
    const cacheSize = options.profileCacheSize ?? 10_000;
    if (!(Number.isInteger(cacheSize) && cacheSize >= 0)) {
      throw new SignalboxError("CONFIG_INVALID", `profileCacheSize ${cacheSize} must be a whole number, 0 or more`);
    }
    this.copies = new ProfileCopies(cacheSize);
    this.coalesce = options.coalesce ?? true;
    this.allowCrossSlot = options.crossSlotScripts ?? true;
    const target = redisTarget(options.url, maskUrl(options.url));
    const common: RedisOptions = {
      lazyConnect: true,
      // Fail fast while disconnected: the engine routes a failed read to the segment's on_error path,
      // which beats queueing decisions behind a dead connection.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.timeoutMs,
      connectTimeout: this.timeoutMs,
      retryStrategy: (times) => Math.min(100 * times, 2000),
      connectionName: this.connectionName,
      // Commands issued in one tick (a read's HGETALLs and script, and those of other decisions in
      // flight) leave in one socket write: the node's socket writes were its largest single cost.
      enableAutoPipelining: true,
      // A primary demoted by a failover answers writes with READONLY: reconnect, which through
      // Sentinel (or an endpoint that follows the primary) reaches the new one. The failed call is
      // not resent; its decision has taken its on_error path already.
      reconnectOnError: (err) => err.message.startsWith("READONLY"),
    };
    this.cluster = target.kind === "cluster";
    this.redis = client(target, common, this.timeoutMs, options.tls);
    // Errors surface through the rejected calls; without a listener ioredis would log every retry.
    // The last one is kept to say why a connection could not be made (a refused certificate, say),
    // which the failed call itself does not tell ("Connection is closed").
    this.redis.on("error", (err: Error) => {
      this.connectionError = err.message;
    });
    // The profile copies outlive a reconnection to the same server (`noteServer`): every read checks
    // a copy's version, and a write whose reply was lost with the connection dropped the copies it touched.
    this.redis.on("ready", () => {
      this.scriptsLoaded = false;
    });
    if (this.redis instanceof Cluster) {
      // A slot served by another primary than before (a failover, a resharding) may hold older
      // hashes, and its server another clock, than the one the copies came from: drop them, as
      // `noteServer` does when the server behind a single connection changes. Judged on each
      // refresh of the client's slot table, not on its connection events, which repeat while a
      // dead primary is retried.
      const cluster = this.redis;
      this.redis.on("refresh", () => {
        const owners = slotOwners(cluster);
        if (this.slotOwners !== undefined && owners !== this.slotOwners) {
          this.copies.clear();
          this.population.clear();
          this.serverChanges += 1;
        }
        this.slotOwners = owners;
      });
    }
  }

  /** What this store has counted since it opened, for `/metrics`. */
  stats(): StateStoreStats {
    return {
      roundTrips: this.roundTrips,
      serverChanges: this.serverChanges,
      slotMovedRetries: this.slotMovedRetries,
      copyHits: this.copies.stats.hits,
      copyStale: this.copies.stats.stale,
    };
  }

  /** How a Cluster's script calls are split: by node (Redis 7 and later) or by slot; undefined off a Cluster. */
  get clusterSplit(): "node" | "slot" | undefined {
    if (!this.cluster) return undefined;
    return this.crossSlot ? "node" : "slot";
  }

  /** Most identity profiles this node keeps a copy of (0: none). */
  get profileCacheSize(): number {
    return this.copies.capacity;
  }

  /** How old this node's copy of a population profile may get, ms (0: read every time). */
  get populationRefreshMs(): number {
    return this.population.refreshMs;
  }

  /** Connects (if not yet connected) and loads the scripts; rejects when Redis cannot be reached in time. */
  async ready(): Promise<void> {
    this.assertOpen();
    const status = this.redis.status;
    this.connectionError = undefined;
    try {
      if (status === "wait") {
        await this.bounded(this.redis.connect(), "connect");
      } else if (status === "connecting" || status === "connect") {
        let onReady = () => {};
        const isReady = new Promise<void>((resolve) => {
          onReady = resolve;
          this.redis.once("ready", onReady);
        });
        await this.bounded(isReady, "connect").finally(() => this.redis.off("ready", onReady));
      } else if (status !== "ready") {
        throw unavailable(`redis is not connected (${status})`);
      }
    } catch (err) {
      const why = this.connectionError;
      if (why === undefined || !isSignalboxError(err) || err.message.includes(why)) throw err;
      throw unavailable(`${err.message} (${why})`, err);
    }
    if (!this.scriptsLoaded && this.redis instanceof Cluster) {
      // Every primary gets the scripts; one that joins later gets them with its first NOSCRIPT.
      const primaries = this.redis.nodes("master");
      const versions = await this.bounded(
        Promise.all(primaries.map((node) => node.info("server"))),
        "server version check",
      );
      this.crossSlot =
        this.allowCrossSlot &&
        versions.length > 0 &&
        versions.every((info) => Number(/^redis_version:(\d+)\./m.exec(info)?.[1] ?? 0) >= 7);
      const scripts = this.crossSlot ? [...SCRIPTS, ...Object.values(CROSS_SLOT)] : SCRIPTS;
      await this.bounded(
        Promise.all(primaries.flatMap((node) => scripts.map((sc) => node.script("LOAD", sc.source)))),
        "script load",
      );
      this.scriptsLoaded = true;
    }
    if (!this.scriptsLoaded) {
      // Checked on each (re)connection, with the scripts: a Cluster node would refuse every call.
      // A server that refuses INFO (some managed services rename it) is taken as not clustered.
      const [info, server, ...loaded] = await this.exec([
        ["info", "cluster"],
        ["info", "server"],
        ...SCRIPTS.map((s) => ["script", "LOAD", s.source]),
      ]);
      check(loaded);
      this.noteServer(server);
      if (info !== undefined && !info[0] && /^cluster_enabled:1\s*$/m.test(String(info[1]))) {
        throw new SignalboxError(
          "CONFIG_INVALID",
          "this Redis runs in Cluster mode: name its nodes with redis+cluster://host:port[,host:port…] so " +
            "that calls are split by hash slot (docs/state.md, Redis Cluster)",
        );
      }
      this.scriptsLoaded = true;
    }
  }

  async read(query: StateQuery, now: number): Promise<StateSnapshot> {
    if (!this.isReady()) await this.ready();
    const { profiles, counters, claims } = query;
    if (profiles.length + counters.length + claims.length === 0) {
      return { profiles: new Map(), counters: new Map(), claims: new Map() };
    }
    // Profiles this node holds a copy of are checked by version inside the read script.
    const copies = this.copies;
    copies.noteRead();
    const checks: ProfileCheckArgs[] = [];
    const held: (ProfileCopy | undefined)[] = [];
    for (const key of profiles) {
      const copy = copies.covers(key) ? copies.get(key) : undefined;
      held.push(copy);
      if (copy) checks.push({ key: this.key(key, "profile"), version: copy.version });
    }
    const scriptRead: ScriptRead = {
      counters: counters.map((spec) => ({
        key: this.key(spec.key, "counter"),
        oldest: oldestBucket(now, spec.windowMs),
        newest: bucketOf(now, spec.windowMs),
        distinct: spec.distinct === true,
      })),
      claims: claims.map((c) => ({
        key: this.key(c.key, "claim"),
        holder: JSON.stringify(c.holder),
        expiresAt: now + c.ttlMs,
        ttlMs: retention(c.ttlMs),
        now,
      })),
      profiles: checks,
    };
    // One round trip: a plain HGETALL per profile without a copy (cheapest for Redis) and, when
    // there are counters, claims or copies to check, one script for all of them (shared with the
    // other reads of this turn), issued in one tick so auto-pipelining sends them together. The
    // script is queued first, so that its call is made before auto-pipelining flushes the HGETALLs.
    // The upper-case name skips ioredis's reply transform of `hgetall` into an object, which cost
    // more than parsing the flat array (parseProfile takes both). A population profile comes from
    // the node's copy when it is fresh; else its fetch joins this pipeline.
    const scripted = counters.length + claims.length + checks.length > 0;
    const script = scripted ? this.readScript(scriptRead) : undefined;
    let fetched = false;
    const population: boolean[] = [];
    const hashes = profiles.map((key, i): Profile | Promise<unknown> | undefined => {
      const covered = this.population.covers(key);
      population.push(covered);
      if (held[i]) return undefined;
      if (covered) {
        const copy = this.population.lookup(key);
        if (copy !== undefined) return copy;
      }
      fetched = true;
      const reply = this.fetchProfile(this.key(key, "profile"));
      return covered ? this.population.track(key, reply.then(parseProfile)) : reply;
    });
    if (!scripted && fetched) this.roundTrips += 1;
    const [scriptReply, ...stored] = await Promise.all([script ?? [], ...hashes]).catch((err: unknown) => {
      throw isSignalboxError(err) ? err : failed(err);
    });
    const results = scriptReply as unknown[];
    const snapshot: StateSnapshot = { profiles: new Map(), counters: new Map(), claims: new Map() };
    let check = counters.length + claims.length;
    for (let i = 0; i < profiles.length; i++) {
      const key = profiles[i] as string;
      const copy = held[i];
      let profile: Profile;
      if (copy) {
        const answer = results[check++];
        if (answer === 0) {
          copies.hit();
          profile = copy.profile;
        } else {
          copies.miss();
          profile = this.keepCopy(key, answer as StoredHash);
        }
      } else if (population[i]) {
        profile = stored[i] as Profile;
      } else if (copies.covers(key)) {
        profile = this.keepCopy(key, stored[i] as StoredHash);
      } else {
        profile = parseProfile(stored[i] as StoredHash | null);
      }
      (snapshot.profiles as Map<string, Profile>).set(key, profile);
    }
    let j = 0;
    for (const spec of counters) {
      const [count, distinct] = (results[j++] as [string, number] | undefined) ?? ["0", 0];
      (snapshot.counters as Map<string, CounterRead>).set(spec.key, { count: Number(count), distinct });
    }
    for (const c of claims) {
      const [won, first] = results[j++] as [number, string];
      (snapshot.claims as Map<string, ClaimRead>).set(c.key, {
        first: JSON.parse(first) as JsonObject,
        won: won === 1,
      });
    }
    return snapshot;
  }

  /**
   * A profile's hash, by `HGETALL` (auto-pipelined with the turn's other calls). On a Cluster it is
   * bounded by the store's timer (the client retries a pipelined command through a failover,
   * restarting its timeout), and sent once more on its own when its slot has moved: the client
   * follows a redirection (MOVED, ASK) of a command sent alone, not of one in a pipeline that spans
   * several slots.
   */
  private fetchProfile(key: string): Promise<StoredHash> {
    const call = this.redis.call("HGETALL", key) as Promise<StoredHash>;
    if (!this.cluster) return call;
    const alone = call.catch((err: unknown) => {
      if (!this.retriesAfterSlotMove(err)) throw err;
      const command = new RedisCommand("HGETALL", [key], { replyEncoding: "utf8" });
      return this.redis.sendCommand(command) as Promise<StoredHash>;
    });
    return this.bounded(alone, "HGETALL");
  }

  /** A profile hash just read from Redis, parsed and kept as this node's copy. */
  private keepCopy(key: string, hash: StoredHash): Profile {
    const { profile, version } = readProfileHash(hash);
    this.copies.keep(key, version, profile);
    return profile;
  }

  /** The counters, claims and profile checks of one read: one script call, or a share of the turn's call. */
  private async readScript(read: ScriptRead): Promise<unknown[]> {
    if (this.coalesce) return this.reads.add(read);
    const reply = (await this.sendRead(read)) as unknown[];
    const failed = reply.find((entry) => entry instanceof PartFailed) as PartFailed | undefined;
    if (failed) throw failed.error;
    return reply;
  }

  /**
   * One call of the read script; on a Cluster one per node (or slot), sent together, their replies
   * merged, a failed part's entries standing as `PartFailed` (only the reads with one fail).
   */
  private async sendRead(read: ScriptRead): Promise<unknown> {
    if (!this.cluster) return this.evalScript(READ, readKeys(read), readArgs(read));
    this.roundTrips += 1;
    return this.readParts(read, this.groupOf, this.crossSlot, Date.now());
  }

  /**
   * `read` split by `groupOf`, its parts sent together. With `retry`, a part whose node no longer
   * serves one of its keys' slots (a resharding) is sent again split by slot (see `slotMoved`),
   * within what is left of the call's timeout.
   */
  private async readParts(read: ScriptRead, groupOf: GroupOf, retry: boolean, started: number): Promise<unknown> {
    const script = this.crossSlot ? (CROSS_SLOT[READ.name] as RedisScript) : READ;
    const split = splitRead(read, groupOf);
    const send = (part: ScriptRead): Promise<unknown> =>
      this.evalPart(script, readKeys(part), readArgs(part), started).catch((err: unknown) => {
        if (!(retry && this.retriesAfterSlotMove(err))) throw err;
        return this.readParts(part, keySlot, false, started);
      });
    if (split.calls.length === 1) return send(read);
    const settled = await Promise.allSettled(split.calls.map(send));
    const failure = settled.find((s) => s.status === "rejected");
    if (failure && settled.every((s) => s.status === "rejected")) throw failure.reason;
    // A failed part fails only the reads with an entry in it (see `ReadBatcher`).
    return split.merge(settled.map((s) => (s.status === "fulfilled" ? s.value : new PartFailed(s.reason))));
  }

  /**
   * One write call on a Cluster: one part per node (or slot), sent together. Each part is atomic,
   * the whole is not: when some parts fail, a `PartialWriteFailure` names their keys, and only the
   * writes with a key in them fail (see `WriteBatcher`). Each part brings the copies of its own
   * profiles up to date (or drops them) as soon as it returns, not when the slowest part does: a
   * read in between would otherwise check a copy older than what Redis already holds.
   */
  private async clusterWrite(
    keys: readonly string[],
    ops: readonly (string | number)[],
    copyOps: readonly CopyOp[],
  ): Promise<unknown> {
    this.roundTrips += 1;
    return this.writeParts(keys, ops, copyOps, this.groupOf, this.crossSlot, Date.now());
  }

  /** `clusterWrite`'s parts by `groupOf`; with `retry`, a part that met a moved slot is sent again by slot (as `readParts`). */
  private async writeParts(
    keys: readonly string[],
    ops: readonly (string | number)[],
    copyOps: readonly CopyOp[],
    groupOf: GroupOf,
    retry: boolean,
    started: number,
  ): Promise<unknown> {
    const script = this.crossSlot ? (CROSS_SLOT[WRITE.name] as RedisScript) : WRITE;
    const split = splitWrite(keys, ops, groupOf);
    const partOf = new Map<string, number>();
    split.calls.forEach((part, i) => {
      for (const key of part.keys) partOf.set(key, i);
    });
    const partCopyOps: CopyOp[][] = split.calls.map(() => []);
    for (const op of copyOps) {
      const i = partOf.get(this.key(op.profile, "profile"));
      if (i === undefined) this.copies.afterFailedWrite([op]);
      else partCopyOps[i]?.push(op);
    }
    const settled = await Promise.allSettled(
      split.calls.map((part, i) => {
        const mine = partCopyOps[i] ?? [];
        return this.evalPart(script, part.keys, [this.profileTtlMs, ...part.ops], started).then(
          (reply) => {
            if (mine.length > 0) this.copies.afterWrite(mine, reply);
            return reply;
          },
          (err: unknown) => {
            // Nothing of the part ran: sent again by slot, it brings its copies up to date itself.
            if (retry && this.retriesAfterSlotMove(err))
              return this.writeParts(part.keys, part.ops, mine, keySlot, false, started);
            if (mine.length > 0) this.copies.afterFailedWrite(mine);
            throw err;
          },
        );
      }),
    );
    const failedKeys = new Set<string>();
    let reason: unknown;
    settled.forEach((s, i) => {
      if (s.status === "fulfilled") return;
      const error = s.reason instanceof PartialWriteFailure ? s.reason.error : s.reason;
      reason ??= error;
      const lost = s.reason instanceof PartialWriteFailure ? s.reason.failedKeys : (split.calls[i]?.keys ?? []);
      for (const key of lost) failedKeys.add(key);
    });
    if (failedKeys.size === 0) return split.merge(settled.map((s) => (s as PromiseFulfilledResult<unknown>).value));
    if (failedKeys.size === keys.length) throw reason;
    throw new PartialWriteFailure(failedKeys, reason);
  }

  /**
   * Whether a failed Cluster call is to be sent again: it failed because a key's slot is served by
   * another primary now (`slotMoved`: a resharding moved it, or is moving it). The cross-slot scripts
   * check every key before they change anything, so nothing of such a call ran. Counts the retry and
   * refreshes the client's slot table at once, so that later calls are grouped by the new owners.
   */
  private retriesAfterSlotMove(err: unknown): boolean {
    if (!slotMoved(err)) return false;
    this.slotMovedRetries += 1;
    this.roundTrips += 1;
    (this.redis as Cluster).refreshSlotsCache();
    return true;
  }

  async write(updates: readonly StateUpdate[], now: number): Promise<void> {
    if (!this.isReady()) await this.ready();
    if (updates.length === 0) return;
    // Every key is sent once in KEYS; ops refer to it by its 1-based index.
    const keys: string[] = [];
    const slots = new Map<string, number>();
    const args: (string | number)[] = [];
    const keyRefs: number[] = [];
    // The profile updates, for this node's copies; none are kept when it keeps no copies.
    const copyOps: CopyOp[] | undefined = this.copies.capacity > 0 ? [] : undefined;
    const slot = (key: string): number => {
      let i = slots.get(key);
      if (i === undefined) {
        i = keys.push(key);
        slots.set(key, i);
      }
      keyRefs.push(args.length + 1);
      return i;
    };
    for (const u of updates) {
      switch (u.op) {
        case "see":
          if (!isStorableKey(u.field) || !isStorableKey(u.value)) break;
          args.push(OP.see, slot(this.key(u.profile, "profile")), u.field, u.value, u.at, u.cap);
          copyOps?.push(u);
          break;
        case "set": {
          if (!isStorableKey(u.field)) break;
          const json = JSON.stringify(u.value);
          args.push(OP.set, slot(this.key(u.profile, "profile")), u.field, json);
          copyOps?.push({ op: "set", profile: u.profile, field: u.field, json });
          break;
        }
        case "incr":
          args.push(
            OP.incr,
            slot(this.key(u.counter, "counter")),
            counterTtl(u.windowMs),
            oldestBucket(u.at, u.windowMs),
            bucketOf(u.at, u.windowMs),
            u.by,
          );
          break;
        case "distinct":
          args.push(
            OP.distinct,
            slot(this.key(u.counter, "distinct", bucketOf(u.at, u.windowMs))),
            counterTtl(u.windowMs),
            u.member,
          );
          break;
        case "pending": {
          const expiresAt = u.record.at + u.ttlMs;
          const value = JSON.stringify({ e: expiresAt, r: u.record });
          args.push(OP.pending, slot(this.key(u.id, "pending")), value, retention(expiresAt - now));
          break;
        }
      }
    }
    if (args.length === 0) return;
    if (this.coalesce) await this.writes.add({ keys, ops: args, keyRefs, copyOps: copyOps ?? NO_COPY_OPS });
    else
      await this.sendWrite(keys, args, copyOps ?? NO_COPY_OPS).catch((err: unknown) => {
        throw err instanceof PartialWriteFailure ? err.error : err;
      });
  }

  /**
   * One call of the write script (one decision's write, or a turn's writes coalesced); then this
   * node's copies of the profiles it touched are brought up to date, or dropped when the call failed
   * (it may have been applied, in part or whole, before a timeout or a lost connection). On a
   * Cluster, `clusterWrite` does this part by part.
   */
  private async sendWrite(
    keys: readonly string[],
    ops: readonly (string | number)[],
    copyOps: readonly CopyOp[],
  ): Promise<unknown> {
    if (this.cluster) return this.clusterWrite(keys, ops, copyOps);
    if (copyOps.length === 0) return this.evalScript(WRITE, keys, [this.profileTtlMs, ...ops]);
    let reply: unknown;
    try {
      reply = await this.evalScript(WRITE, keys, [this.profileTtlMs, ...ops]);
    } catch (err) {
      this.copies.afterFailedWrite(copyOps);
      throw err;
    }
    this.copies.afterWrite(copyOps, reply);
    return reply;
  }

  async getPending(id: string, now: number): Promise<PendingDecision | undefined> {
    if (!this.isReady()) await this.ready();
    this.roundTrips += 1;
    let raw: string | null;
    try {
      raw = await this.redis.get(this.key(id, "pending"));
    } catch (err) {
      throw unavailable(`redis call failed: ${(err as Error).message}`, err);
    }
    if (typeof raw !== "string") return undefined;
    const stored = JSON.parse(raw) as { e: number; r: PendingDecision };
    return stored.e > now ? stored.r : undefined;
  }

  /**
   * Bytes Redis uses for every key of some state keys (a profile and its eviction indexes, a counter
   * and its HyperLogLog buckets), via `MEMORY USAGE`.
   */
  async memoryUsage(keys: { profiles?: readonly string[]; counters?: readonly string[] }): Promise<number> {
    await this.ready();
    const patterns = [
      ...(keys.profiles ?? []).flatMap((k) => [
        this.key(k, "profile"),
        `${globEscape(this.key(k, "profile"))}${INDEX_SUFFIX}*`,
      ]),
      ...(keys.counters ?? []).flatMap((k) => [
        this.key(k, "counter"),
        `${globEscape(this.key(k, "distinct", 0)).slice(0, -1)}*`,
      ]),
    ];
    let total = 0;
    for (const pattern of patterns) {
      const names = pattern.endsWith("*")
        ? (await Promise.all(this.primaries().map((node) => scanAll(node, pattern)))).flat()
        : [pattern];
      for (const name of names) total += Number((await this.redis.memory("USAGE", name, "SAMPLES", "0")) ?? 0);
    }
    return total;
  }

  /** Deletes every key under this store's prefix (SCAN + DEL, on every primary of a Cluster); for tests, benchmarks and decommissioning. */
  async flushPrefix(): Promise<number> {
    await this.ready();
    let deleted = 0;
    for (const node of this.primaries()) {
      const keys = await scanAll(node, `${globEscape(this.prefix)}*`);
      // One key per DEL on a Cluster node: a multi-key DEL must stay within one slot.
      if (this.cluster) await Promise.all(keys.map((k) => node.del(k)));
      else for (let i = 0; i < keys.length; i += 500) await node.del(...keys.slice(i, i + 500));
      deleted += keys.length;
    }
    return deleted;
  }

  /** The servers that hold keys: the one server, or every primary of a Cluster. */
  private primaries(): Redis[] {
    return this.redis instanceof Cluster ? this.redis.nodes("master") : [this.redis];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.copies.clear();
    this.redis.disconnect(false);
  }

  /**
   * The Redis key of a state key. Profiles and claims are tagged by their whole key; a counter key
   * is `<identity>:<name>`, so it is tagged by its identity and lands in the same Cluster slot as
   * the identity's profile. Braces in keys are escaped so a caller cannot pick the hash tag.
   */
  key(stateKey: string, kind: "profile" | "counter" | "distinct" | "claim" | "pending", bucket?: number): string {
    let tag = stateKey;
    if (kind === "counter" || kind === "distinct") {
      const cut = stateKey.lastIndexOf(":");
      if (cut > 0 && stateKey.lastIndexOf(":", cut - 1) >= 0) tag = stateKey.slice(0, cut);
    }
    const rest = stateKey.slice(tag.length);
    const base = `${this.prefix}{${escapeBraces(tag)}}${escapeBraces(rest)}`;
    switch (kind) {
      case "profile":
        return `${base}:p`;
      case "counter":
        return `${base}:c`;
      case "distinct":
        return `${base}:h:${bucket ?? 0}`;
      case "claim":
        return `${base}:k`;
      case "pending":
        return `${base}:d`;
    }
  }

  /**
   * One call of a split (on a Cluster): as is, or, with the cross-slot scripts, declaring its first
   * key only and passing every key in ARGV (see `CROSS_SLOT`).
   */
  private evalPart(
    s: RedisScript,
    keys: readonly string[],
    args: readonly (string | number)[],
    started: number,
  ): Promise<unknown> {
    // Bounded here too: a Cluster client retries a call through a failover (redirections, reconnects)
    // and restarts its command timeout each time. A part sent again gets what is left of the first's.
    const call = this.crossSlot
      ? this.evalScript(s, keys.slice(0, 1), [keys.length, ...keys, ...args], false)
      : this.evalScript(s, keys, args, false);
    return this.bounded(call, "script call", this.timeoutMs - (Date.now() - started));
  }

  /**
   * Runs one script in one round trip. When Redis no longer has it (a restart or `SCRIPT FLUSH`)
   * nothing ran, so it is sent once more with its source: one extra round trip, nothing applied twice.
   */
  private async evalScript(
    s: RedisScript,
    keys: readonly string[],
    args: readonly (string | number)[],
    trip = true,
  ): Promise<unknown> {
    if (trip) this.roundTrips += 1;
    try {
      return await this.redis.call("evalsha", s.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err as Error).message?.startsWith("NOSCRIPT")) throw failed(err);
    }
    this.roundTrips += 1;
    try {
      const reply = await this.redis.call("eval", s.source, keys.length, ...keys, ...args);
      this.scriptsLoaded = true;
      return reply;
    } catch (err) {
      throw failed(err);
    }
  }

  /**
   * The copies outlive a reconnection to the same server: every read checks a copy's version. A
   * different server behind the connection (a failover through Sentinel or behind one endpoint, or
   * a restart: its `run_id` differs) may hold older hashes and a clock behind this one's, so a
   * version could come round again there: the copies are dropped instead.
   */
  private noteServer(reply: [Error | null, unknown] | undefined): void {
    const runId = reply && !reply[0] ? /^run_id:(\w+)\s*$/m.exec(String(reply[1]))?.[1] : undefined;
    if (runId === undefined) return;
    if (this.serverRunId !== undefined && runId !== this.serverRunId) {
      this.copies.clear();
      this.population.clear();
      this.serverChanges += 1;
    }
    this.serverRunId = runId;
  }

  /** True when calls can go straight to Redis: connected, scripts loaded, store open. */
  private isReady(): boolean {
    return !this.closed && this.scriptsLoaded && this.redis.status === "ready";
  }

  private async exec(commands: Command[]): Promise<Replies> {
    if (commands.length === 0) return [];
    this.roundTrips += 1;
    try {
      const pipeline = this.redis.pipeline();
      for (const [name, ...args] of commands) pipeline.call(String(name), ...args);
      return ((await pipeline.exec()) ?? []) as Replies;
    } catch (err) {
      throw unavailable(`redis call failed: ${(err as Error).message}`, err);
    }
  }

  /** `work`, or STATE_UNAVAILABLE once `ms` (at least 1) have passed: the store's timeout unless given. */
  private async bounded<T>(work: Promise<T>, what: string, ms = this.timeoutMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(unavailable(`redis ${what} timed out after ${this.timeoutMs} ms`)),
        Math.max(1, ms),
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } catch (err) {
      if (err instanceof SignalboxError) throw err;
      throw unavailable(`redis ${what} failed: ${(err as Error).message}`, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("state store is closed");
  }
}

/** A counter key lives for its window plus one bucket after its last write. */
function counterTtl(windowMs: number): number {
  return Math.ceil(windowMs + windowMs / COUNTER_BUCKETS);
}

/** Redis needs a positive whole number of milliseconds. */
function retention(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

function check(replies: Replies): Replies {
  for (const [err] of replies) if (err) throw unavailable(`redis command failed: ${err.message}`, err);
  return replies;
}

/** A failed call: a connection problem, a timeout or an error reply. */
function failed(err: unknown): SignalboxError<"STATE_UNAVAILABLE"> {
  return unavailable(`redis call failed: ${(err as Error).message}`, err);
}

function unavailable(message: string, cause?: unknown): SignalboxError<"STATE_UNAVAILABLE"> {
  return new SignalboxError("STATE_UNAVAILABLE", message, { cause });
}

function escapeBraces(s: string): string {
  // most keys have nothing to escape: three scans are cheaper than a regular expression replace
  if (s.indexOf("{") < 0 && s.indexOf("}") < 0 && s.indexOf("%") < 0) return s;
  return s.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
