/** The Redis state adapter: state shared by many decision nodes, one round trip per read and per write. */

import { Redis } from "ioredis";
import { SignalboxError } from "../errors/signalbox-error.js";
import type { JsonObject, JsonValue } from "../model/request.js";
import {
  bucketOf,
  type ClaimRead,
  COUNTER_BUCKETS,
  type CounterRead,
  emptyProfile,
  oldestBucket,
  type PendingDecision,
  type Profile,
  type StateQuery,
  type StateSnapshot,
  type StateStore,
  type StateUpdate,
} from "./port.js";
import { CLAIM, COUNTER_INCR, FIELD_SEP, PROFILE_WRITE, type RedisScript, SCRIPTS } from "./redis-scripts.js";

export interface RedisStateOptions {
  /** `redis://[user:password@]host:port/db` (or `rediss://` for TLS). */
  url: string;
  /** Prefix of every key, e.g. `sb:` (the default); lets several deployments share one Redis. */
  keyPrefix?: string;
  /** Most time one call may wait for Redis (or for the first connection) before it rejects. Default 1000 ms. */
  commandTimeoutMs?: number;
  /** Sliding retention of a profile after its last write. Default 180 days. */
  profileTtlMs?: number;
}

const DAY_MS = 86_400_000;
let instances = 0;

/** Replies of one pipeline: per command, an error or a result. */
type Replies = [Error | null, unknown][];
/** One command of a pipeline: its name, then its arguments. */
type Command = (string | number)[];

export class RedisStateStore implements StateStore {
  readonly kind = "redis";
  /** Round trips to Redis so far (one per pipeline sent); a decision's read and write cost one each. */
  roundTrips = 0;
  /** The Redis client name (`CLIENT LIST`) of this store's connection, unique per store. */
  readonly connectionName = `signalbox-state-${process.pid}-${++instances}`;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly profileTtlMs: number;
  private scriptsLoaded = false;
  private closed = false;

  constructor(options: RedisStateOptions) {
    this.prefix = options.keyPrefix ?? "sb:";
    if (/[{}]/.test(this.prefix)) {
      throw new SignalboxError("CONFIG_INVALID", `redis key prefix '${this.prefix}' must not contain braces`);
    }
    this.timeoutMs = options.commandTimeoutMs ?? 1000;
    this.profileTtlMs = options.profileTtlMs ?? 180 * DAY_MS;
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      // Fail fast while disconnected: the engine routes a failed read to the segment's on_error path,
      // which beats queueing decisions behind a dead connection.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.timeoutMs,
      connectTimeout: this.timeoutMs,
      retryStrategy: (times) => Math.min(100 * times, 2000),
      connectionName: this.connectionName,
    });
    // Errors surface through the rejected calls; without a listener ioredis would log every retry.
    this.redis.on("error", () => {});
    this.redis.on("ready", () => {
      this.scriptsLoaded = false;
    });
  }

  /** Connects (if not yet connected) and loads the scripts; rejects when Redis cannot be reached in time. */
  async ready(): Promise<void> {
    this.assertOpen();
    const status = this.redis.status;
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
    if (!this.scriptsLoaded) {
      check(await this.exec(SCRIPTS.map((s) => ["script", "LOAD", s.source])));
      this.scriptsLoaded = true;
    }
  }

  async read(query: StateQuery, now: number): Promise<StateSnapshot> {
    await this.ready();
    const p: Command[] = [];
    for (const key of query.profiles) p.push(["hgetall", this.key(key, "profile")]);
    for (const spec of query.counters) {
      const buckets = windowBuckets(now, spec.windowMs);
      p.push(["hmget", this.key(spec.key, "counter"), ...buckets]);
      p.push(["pfcount", ...buckets.map((b) => this.key(spec.key, "distinct", b))]);
    }
    for (const c of query.claims) {
      const args = [JSON.stringify(c.holder), now, now + c.ttlMs, retention(c.ttlMs)];
      p.push(evalsha(CLAIM, this.key(c.key, "claim"), args));
    }
    const replies = check(await this.runScripts(p));
    let i = 0;
    const next = () => replies[i++]?.[1];
    const profiles = new Map<string, Profile>();
    for (const key of query.profiles) profiles.set(key, parseProfile(next() as Record<string, string> | null));
    const counters = new Map<string, CounterRead>();
    for (const spec of query.counters) {
      const sums = (next() as (string | null)[] | null) ?? [];
      let count = 0;
      for (const s of sums) if (s !== null) count += Number(s);
      counters.set(spec.key, { count, distinct: Number(next() ?? 0) });
    }
    const claims = new Map<string, ClaimRead>();
    for (const c of query.claims) {
      const [won, first] = next() as [number, string];
      claims.set(c.key, { first: JSON.parse(first) as JsonObject, won: won === 1 });
    }
    return { profiles, counters, claims };
  }

  async write(updates: readonly StateUpdate[], now: number): Promise<void> {
    await this.ready();
    if (updates.length === 0) return;
    // Group by Redis key so each key gets one command, applied in the order given.
    const profileOps = new Map<string, (string | number)[]>();
    const counterOps = new Map<string, { oldest: number; ttl: number; args: (string | number)[] }>();
    const members = new Map<string, { ttl: number; members: string[] }>();
    const p: Command[] = [];
    for (const u of updates) {
      switch (u.op) {
        case "see":
        case "set": {
          const key = this.key(u.profile, "profile");
          let ops = profileOps.get(key);
          if (!ops) {
            ops = [];
            profileOps.set(key, ops);
          }
          if (u.op === "see") ops.push("s", u.field, u.value, u.at, u.cap);
          else ops.push("v", u.field, JSON.stringify(u.value));
          break;
        }
        case "incr": {
          const key = this.key(u.counter, "counter");
          const oldest = oldestBucket(u.at, u.windowMs);
          let c = counterOps.get(key);
          if (!c) {
            c = { oldest, ttl: counterTtl(u.windowMs), args: [] };
            counterOps.set(key, c);
          }
          c.oldest = Math.max(c.oldest, oldest);
          c.args.push(bucketOf(u.at, u.windowMs), String(u.by));
          break;
        }
        case "distinct": {
          const key = this.key(u.counter, "distinct", bucketOf(u.at, u.windowMs));
          let m = members.get(key);
          if (!m) {
            m = { ttl: counterTtl(u.windowMs), members: [] };
            members.set(key, m);
          }
          m.members.push(u.member);
          break;
        }
        case "pending": {
          const expiresAt = u.record.at + u.ttlMs;
          const value = JSON.stringify({ e: expiresAt, r: u.record });
          p.push(["set", this.key(u.id, "pending"), value, "PX", retention(expiresAt - now)]);
          break;
        }
      }
    }
    for (const [key, ops] of profileOps) p.push(evalsha(PROFILE_WRITE, key, [this.profileTtlMs, ...ops]));
    for (const [key, c] of counterOps) p.push(evalsha(COUNTER_INCR, key, [c.ttl, c.oldest, ...c.args]));
    for (const [key, m] of members) p.push(["pfadd", key, ...m.members], ["pexpire", key, m.ttl]);
    check(await this.runScripts(p));
  }

  async getPending(id: string, now: number): Promise<PendingDecision | undefined> {
    await this.ready();
    const [reply] = check(await this.exec([["get", this.key(id, "pending")]]));
    const raw = reply?.[1];
    if (typeof raw !== "string") return undefined;
    const stored = JSON.parse(raw) as { e: number; r: PendingDecision };
    return stored.e > now ? stored.r : undefined;
  }

  /** Bytes Redis uses for every key of one state key (profile, counter and its buckets), via `MEMORY USAGE`. */
  async memoryUsage(keys: { profiles?: readonly string[]; counters?: readonly string[] }): Promise<number> {
    await this.ready();
    const patterns = [
      ...(keys.profiles ?? []).map((k) => this.key(k, "profile")),
      ...(keys.counters ?? []).flatMap((k) => [
        this.key(k, "counter"),
        `${globEscape(this.key(k, "distinct", 0)).slice(0, -1)}*`,
      ]),
    ];
    let total = 0;
    for (const pattern of patterns) {
      const names = pattern.endsWith("*") ? await this.scanAll(pattern) : [pattern];
      for (const name of names) total += Number((await this.redis.memory("USAGE", name, "SAMPLES", "0")) ?? 0);
    }
    return total;
  }

  /** Deletes every key under this store's prefix (SCAN + DEL); for tests, benchmarks and decommissioning. */
  async flushPrefix(): Promise<number> {
    await this.ready();
    const keys = await this.scanAll(`${globEscape(this.prefix)}*`);
    for (let i = 0; i < keys.length; i += 500) await this.redis.del(...keys.slice(i, i + 500));
    return keys.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
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
   * Sends a pipeline; commands whose script Redis no longer has (a restart or `SCRIPT FLUSH`) are
   * re-sent once with their source. Only the failed scripts are re-sent, so nothing applies twice.
   */
  private async runScripts(commands: Command[]): Promise<Replies> {
    const replies = await this.exec(commands);
    const retry: number[] = [];
    replies.forEach(([err], i) => {
      if (err?.message.startsWith("NOSCRIPT")) retry.push(i);
    });
    if (retry.length === 0) return replies;
    const again = retry.map((i) => {
      const [, sha, ...rest] = commands[i] ?? [];
      const source = SCRIPTS.find((s) => s.sha === sha)?.source ?? "";
      return ["eval", source, ...rest];
    });
    const second = await this.exec(again);
    retry.forEach((index, j) => {
      replies[index] = second[j] ?? [new Error("missing reply"), null];
    });
    this.scriptsLoaded = true;
    return replies;
  }

  private async exec(commands: Command[]): Promise<Replies> {
    if (commands.length === 0) return [];
    this.roundTrips += 1;
    try {
      return ((await this.redis.pipeline(commands).exec()) ?? []) as Replies;
    } catch (err) {
      throw unavailable(`redis call failed: ${(err as Error).message}`, err);
    }
  }

  private async scanAll(pattern: string): Promise<string[]> {
    const out: string[] = [];
    let cursor = "0";
    do {
      const [nextCursor, keys] = await this.redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = nextCursor;
      out.push(...keys);
    } while (cursor !== "0");
    return out;
  }

  private async bounded<T>(work: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(unavailable(`redis ${what} timed out after ${this.timeoutMs} ms`)),
        this.timeoutMs,
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

function evalsha(s: RedisScript, key: string, args: (string | number)[]): Command {
  return ["evalsha", s.sha, 1, key, ...args];
}

/** The bucket indexes a read at `now` sums over, oldest first. */
function windowBuckets(now: number, windowMs: number): number[] {
  const out: number[] = [];
  for (let b = oldestBucket(now, windowMs); b <= bucketOf(now, windowMs); b++) out.push(b);
  return out;
}

/** A counter key lives for its window plus one bucket after its last write. */
function counterTtl(windowMs: number): number {
  return Math.ceil(windowMs + windowMs / COUNTER_BUCKETS);
}

/** Redis needs a positive whole number of milliseconds. */
function retention(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

function parseProfile(hash: Record<string, string> | null): Profile {
  const p = emptyProfile();
  if (!hash) return p;
  for (const [field, raw] of Object.entries(hash)) {
    const kind = field[0];
    const sep = field.indexOf(FIELD_SEP, 2);
    if (kind === "v") {
      p.values[field.slice(2)] = JSON.parse(raw) as JsonValue;
    } else if (kind === "s" && sep > 0) {
      const name = field.slice(2, sep);
      const [n, first, last] = raw.split(":").map(Number);
      let set = p.sets[name];
      if (!set) {
        set = {};
        p.sets[name] = set;
      }
      set[field.slice(sep + 1)] = { n: n ?? 0, first: first ?? 0, last: last ?? 0 };
    }
  }
  return p;
}

function check(replies: Replies): Replies {
  for (const [err] of replies) if (err) throw unavailable(`redis command failed: ${err.message}`, err);
  return replies;
}

function unavailable(message: string, cause?: unknown): SignalboxError<"STATE_UNAVAILABLE"> {
  return new SignalboxError("STATE_UNAVAILABLE", message, { cause });
}

function escapeBraces(s: string): string {
  return s.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
