/**
 * The Redis adapter's node-local copies of identity profiles, checked by version (ADR 0018), on a
 * real Redis: a seeded random walk of writes through two nodes comparing every copy with Redis's
 * hash, versions across a deleted and re-created hash, the LRU bound, profiles written before
 * versions existed, reconnection; and, on a private `redis-server`, that a read served from a copy
 * sends no `HGETALL` and that a timed-out write drops the copy.
 */

import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSignalboxError } from "../../src/errors/signalbox-error.js";
import type { JsonValue } from "../../src/model/request.js";
import { Random } from "../../src/simulate/random.js";
import type { StateQuery, StateUpdate } from "../../src/state/port.js";
import { type RedisStateOptions, RedisStateStore } from "../../src/state/redis.js";
import { CHECK_WINDOW } from "../../src/state/redis-profile-cache.js";
import { readProfileHash } from "../../src/state/redis-profile-hash.js";
import { FIELD_SEP } from "../../src/state/redis-scripts.js";
import { RedisProcess, redisServerFor } from "../scaleout/redis-process.js";
import { redisFor } from "../support/redis-probe.js";
import { see } from "./conformance.js";

const URL = process.env.SIGNALBOX_TEST_REDIS ?? "redis://127.0.0.1:6379/0";
const RUN = `sbcopy-${randomUUID().slice(0, 8)}`;
const T0 = 1_700_000_000_000;

const up = await redisFor("the Redis profile copy tests", URL);
const installed = await redisServerFor("the private-Redis profile copy tests");

const profiles = (...keys: string[]): StateQuery => ({ profiles: keys, counters: [], claims: [] });
const set = (profile: string, field: string, value: JsonValue): StateUpdate => ({ op: "set", profile, field, value });

const opened: RedisStateStore[] = [];
async function node(prefix: string, options: Partial<RedisStateOptions> = {}): Promise<RedisStateStore> {
  const s = new RedisStateStore({ url: URL, keyPrefix: prefix, ...options });
  await s.ready();
  opened.push(s);
  return s;
}

describe.skipIf(!up)("redis profile copies", () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(URL);
  });
  afterAll(async () => {
    for (const s of opened) {
      await s.flushPrefix();
      await s.close();
    }
    admin.disconnect();
  });

  /** What Redis holds for a profile, read past every adapter: the parsed hash and its version. */
  const stored = async (s: RedisStateStore, key: string) =>
    readProfileHash((await admin.call("HGETALL", s.key(key, "profile"))) as string[]);

  it("keeps every copy equal to Redis's hash over random see/set sequences through two nodes (seeded)", async () => {
    const KEYS = ["user:p0", "user:p1", "device:p2"];
    const FIELDS = ["devices", "ips", "hours"];
    const VALUES = ["a", "b", "c", "d", "e", "f", "g"];
    const jsonOf = (r: Random): JsonValue =>
      r.pick<() => JsonValue>([
        () => r.int(-5, 1_000_000),
        () => r.next(),
        () => `s-${r.hex(2)}-é{}`,
        () => null,
        () => r.chance(0.5),
        () => ({ lat: r.next() * 90, tags: [r.hex(1), r.int(0, 9)], nested: { ok: true } }),
        () => [],
      ])();
    let compared = 0;
    let reads = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const r = new Random(seed);
      const prefix = `${RUN}:walk${seed}:`;
      // one node coalesces its writes, the other sends one script call per write
      const nodes = [await node(prefix), await node(prefix, { coalesce: false })];
      const nodeAt = (i: number) => nodes[i % 2] as RedisStateStore;
      const update = (): StateUpdate => {
        const key = r.pick(KEYS);
        if (r.chance(0.25)) return set(key, r.pick(["n", "last", "flag"]), jsonOf(r));
        const at = T0 + r.int(0, 400) * 100 + (r.chance(0.1) ? 0.5 : 0);
        // small caps, so that many values go over them and are evicted
        return see(key, r.pick(FIELDS), r.pick(VALUES), at, r.int(2, 10));
      };
      for (let step = 0; step < 150; step++) {
        const where = `seed ${seed}, step ${step}`;
        if (r.chance(0.3)) {
          // a read through either node returns exactly what Redis holds, and leaves a copy of it
          const keys = KEYS.filter(() => r.chance(0.6));
          const snap = await r.pick(nodes).read(profiles(...keys), T0);
          for (const key of keys)
            expect(snap.profiles.get(key), `${where}: read of ${key}`).toEqual((await stored(nodeAt(0), key)).profile);
          reads++;
          continue;
        }
        // one to three writes at once, on one node (coalesced into one call) or on both (racing)
        const writes = Array.from({ length: r.int(1, 3) }, () => Array.from({ length: r.int(1, 4) }, update));
        const both = r.chance(0.3);
        await Promise.all(writes.map((w, i) => nodeAt(both ? i : 0).write(w, T0)));
        for (const n of nodes) {
          for (const key of KEYS) {
            const copy = n.copies.peek(key);
            if (!copy) continue;
            const truth = await stored(n, key);
            if (copy.version === truth.version) {
              expect(copy.profile, `${where}: copy of ${key}`).toEqual(truth.profile);
              compared++;
            } else {
              // out of date (the other node wrote since): the next read's check finds it so
              expect(copy.version, `${where}: stale copy of ${key}`).toBeLessThan(truth.version ?? 0);
            }
          }
        }
        if (both) nodes.reverse();
      }
    }
    const stats = opened.map((s) => s.copies.stats);
    const sum = (pick: (s: (typeof stats)[number]) => number) => stats.reduce((n, s) => n + pick(s), 0);
    // every path was taken many times: copies compared, writes applied to copies, copies dropped
    // (evictions, the other node's writes), reads served from a copy and reads that found it stale
    expect(reads).toBeGreaterThan(200);
    expect(compared).toBeGreaterThan(400);
    expect(sum((s) => s.applied)).toBeGreaterThan(200);
    expect(sum((s) => s.dropped)).toBeGreaterThan(50);
    expect(sum((s) => s.hits)).toBeGreaterThan(50);
    expect(sum((s) => s.stale)).toBeGreaterThan(20);
  });

  it("never repeats a version of a profile that is deleted and written again", async () => {
    const a = await node(`${RUN}:ver:`);
    const b = await node(`${RUN}:ver:`);
    const key = a.key("user:v", "profile");
    const versions: number[] = [];
    for (let round = 0; round < 20; round++) {
      await a.write([set("user:v", "round", round)], T0);
      expect((await a.read(profiles("user:v"), T0)).profiles.get("user:v")?.values).toEqual({ round });
      versions.push(a.copies.peek("user:v")?.version ?? Number.NaN);
      await admin.del(key);
    }
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1] as number);

    // A's copy outlives the hash; B writes it anew with other content; A's read must not take its copy
    await a.write([set("user:v", "round", 100)], T0);
    await a.read(profiles("user:v"), T0);
    const held = a.copies.peek("user:v")?.version ?? 0;
    await admin.del(key);
    expect((await a.read(profiles("user:v"), T0)).profiles.get("user:v")).toEqual({ sets: {}, values: {} });
    await b.write([set("user:v", "other", 1)], T0);
    expect((await a.read(profiles("user:v"), T0)).profiles.get("user:v")).toEqual({ sets: {}, values: { other: 1 } });
    expect(a.copies.peek("user:v")?.version).toBeGreaterThan(held);
    // and so after a flush of the whole prefix
    await b.flushPrefix();
    await b.write([set("user:v", "after", "flush")], T0);
    expect((await a.read(profiles("user:v"), T0)).profiles.get("user:v")?.values).toEqual({ after: "flush" });
  });

  it("keeps at most profileCacheSize copies, least recently used dropped first", async () => {
    const s = await node(`${RUN}:lru:`, { profileCacheSize: 3 });
    await s.read(profiles("user:l0", "user:l1", "user:l2"), T0);
    expect(s.copies.size).toBe(3);
    await s.read(profiles("user:l0"), T0);
    await s.read(profiles("user:l3"), T0);
    expect(s.copies.size).toBe(3);
    expect(s.copies.peek("user:l1")).toBeUndefined();
    expect(s.copies.peek("user:l0")).toBeDefined();
    for (let i = 0; i < 30; i++) await s.read(profiles(`user:many${i}`, `user:many${i + 1}`), T0);
    expect(s.copies.size).toBe(3);
    const none = await node(`${RUN}:lru:`, { profileCacheSize: 0 });
    await none.read(profiles("user:l0", "user:l1"), T0);
    expect(none.copies.size).toBe(0);
  });

  it("keeps no copy of population profiles, which the population copy serves", async () => {
    const s = await node(`${RUN}:pop:`);
    await s.write([see("global:login", "hours", "h1", T0), see("user:pop", "hours", "h1", T0)], T0);
    await s.read(profiles("global:login", "user:pop"), T0);
    expect(s.copies.peek("global:login")).toBeUndefined();
    expect(s.copies.peek("user:pop")).toBeDefined();
  });

  it("reads a profile written before versions existed through until a write gives it one", async () => {
    const s = await node(`${RUN}:legacy:`);
    const key = s.key("user:old", "profile");
    await admin.hset(key, { [`s${FIELD_SEP}devices${FIELD_SEP}d1`]: `1:${T0}:${T0}`, [`c${FIELD_SEP}devices`]: "1" });
    const first = (await s.read(profiles("user:old"), T0)).profiles.get("user:old");
    expect(first?.sets.devices).toEqual({ d1: { n: 1, first: T0, last: T0 } });
    expect(s.copies.peek("user:old")).toBeUndefined();
    await s.write([see("user:old", "devices", "d1", T0 + 1)], T0);
    await s.read(profiles("user:old"), T0);
    expect(s.copies.peek("user:old")?.profile.sets.devices).toEqual({ d1: { n: 2, first: T0, last: T0 + 1 } });
    expect(await admin.hget(key, "_v")).toBe(String(s.copies.peek("user:old")?.version));
  });

  it("sets its copies aside when another node writes between most of its reads, and reads stay exact", async () => {
    const a = await node(`${RUN}:aside:`);
    const b = await node(`${RUN}:aside:`);
    await b.write([set("user:ab", "n", -1)], T0);
    await a.read(profiles("user:ab"), T0);
    expect(a.copies.peek("user:ab")).toBeDefined();
    for (let i = 0; i < CHECK_WINDOW; i++) {
      await b.write([set("user:ab", "n", i)], T0);
      const snap = await a.read(profiles("user:ab"), T0);
      expect(snap.profiles.get("user:ab")?.values.n).toBe(i);
    }
    expect(a.copies.stats.stale).toBe(CHECK_WINDOW);
    expect(a.copies.stats.suspensions).toBe(1);
    expect(a.copies.suspended).toBe(true);
    expect(a.copies.size).toBe(0);
    // Set aside, a read fetches the hash with HGETALL and keeps no copy; it still reads every write.
    await b.write([set("user:ab", "n", "last")], T0);
    const snap = await a.read(profiles("user:ab"), T0);
    expect(snap.profiles.get("user:ab")?.values.n).toBe("last");
    expect(a.copies.size).toBe(0);
    expect(a.copies.stats.stale).toBe(CHECK_WINDOW);
  });

  it("keeps its copies across a reconnection, and still sees what another node wrote meanwhile", async () => {
    const a = await node(`${RUN}:reconnect:`);
    const b = await node(`${RUN}:reconnect:`);
    await a.write([see("user:rc", "devices", "d1", T0)], T0);
    await a.read(profiles("user:rc"), T0);
    const list = String(await admin.call("CLIENT", "LIST", "TYPE", "normal"));
    const id = /id=(\d+) [^\n]*name=(\S+)/g;
    for (const m of list.matchAll(id))
      if (m[2] === a.connectionName) await admin.call("CLIENT", "KILL", "ID", m[1] as string);
    await b.write([see("user:rc", "devices", "d2", T0 + 1)], T0);
    expect(a.copies.peek("user:rc")).toBeDefined();
    let devices: string[] | undefined;
    for (let attempt = 0; attempt < 50 && devices === undefined; attempt++) {
      try {
        const snap = await a.read(profiles("user:rc"), T0);
        devices = Object.keys(snap.profiles.get("user:rc")?.sets.devices ?? {}).sort();
      } catch (err) {
        expect(isSignalboxError(err) && err.code).toBe("STATE_UNAVAILABLE");
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(devices).toEqual(["d1", "d2"]);
  });
});

describe.skipIf(!installed)("redis profile copies on a private redis-server", () => {
  let server: RedisProcess;
  let admin: Redis;
  beforeAll(async () => {
    server = await RedisProcess.start();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it("serves a read of a profile it holds a copy of without an HGETALL: one version check in the read script", async () => {
    const s = new RedisStateStore({ url: server.url, keyPrefix: "sbcopy:" });
    await s.ready();
    await s.write([see("user:quiet", "devices", "d1", T0), set("user:quiet", "n", 1)], T0);
    await s.read(profiles("user:quiet"), T0);
    await admin.config("RESETSTAT");
    const trips = s.roundTrips;
    for (let i = 0; i < 5; i++) {
      const snap = await s.read(profiles("user:quiet"), T0);
      expect(snap.profiles.get("user:quiet")?.values).toEqual({ n: 1 });
    }
    const stats = await admin.info("commandstats");
    expect(stats).not.toMatch(/cmdstat_hgetall:/);
    expect(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1]).toBe("5");
    expect(s.roundTrips - trips).toBe(5);
    expect(s.copies.stats.hits).toBe(5);
    await s.close();
  });

  it("drops the copy when a write times out, since Redis may still apply it", async () => {
    const s = new RedisStateStore({ url: server.url, keyPrefix: "sbcopy:", commandTimeoutMs: 200 });
    await s.ready();
    await s.write([see("user:slow", "devices", "d1", T0)], T0);
    await s.read(profiles("user:slow"), T0);
    expect(s.copies.peek("user:slow")).toBeDefined();
    server.freeze();
    let err: unknown;
    try {
      err = await s.write([see("user:slow", "devices", "d2", T0 + 1)], T0).catch((e: unknown) => e);
    } finally {
      server.thaw();
    }
    expect(isSignalboxError(err) && err.code).toBe("STATE_UNAVAILABLE");
    expect(s.copies.peek("user:slow")).toBeUndefined();
    // Redis applied the write once it woke: the next read has it
    const snap = await s.read(profiles("user:slow"), T0);
    expect(Object.keys(snap.profiles.get("user:slow")?.sets.devices ?? {}).sort()).toEqual(["d1", "d2"]);
    await s.close();
  });
});
