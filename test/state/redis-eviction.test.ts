/**
 * The Redis adapter's eviction index (a sorted set per learned field that has reached its cap), on a
 * real Redis: which fields get one, its key and TTL, ties, and the one-time build from a profile
 * written without one (the previous layout), or whose index was lost.
 */

import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StateUpdate } from "../../src/state/port.js";
import { RedisStateStore } from "../../src/state/redis.js";
import { FIELD_SEP, INDEX_SUFFIX } from "../../src/state/redis-scripts.js";
import { redisAnswers } from "../support/redis-probe.js";
import { see } from "./conformance.js";

const URL = process.env.SIGNALBOX_TEST_REDIS ?? "redis://127.0.0.1:6379/0";
const RUN = `sbevict-${randomUUID().slice(0, 8)}`;
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

const up = await redisAnswers(URL);
if (!up && process.env.CI === "true")
  throw new Error(`redis is not reachable at '${URL}' and CI=true: refusing to skip`);

describe.skipIf(!up)("redis eviction index", () => {
  let admin: Redis;
  let store: RedisStateStore;
  beforeAll(async () => {
    admin = new Redis(URL);
    store = new RedisStateStore({ url: URL, keyPrefix: `${RUN}:` });
    await store.ready();
  });
  afterAll(async () => {
    await store.flushPrefix();
    await store.close();
    admin.disconnect();
  });

  const valuesOf = async (profile: string, field: string) => {
    const snap = await store.read({ profiles: [profile], counters: [], claims: [] }, T0);
    return Object.keys(snap.profiles.get(profile)?.sets[field] ?? {}).sort();
  };
  const indexKey = (profile: string, field: string) => `${store.key(profile, "profile")}${INDEX_SUFFIX}${field}`;

  it("indexes only a field that went over its cap, in the profile's slot and with its TTL", async () => {
    const updates: StateUpdate[] = [];
    for (let i = 0; i < 3; i++) updates.push(see("user:idx", "ips", `ip${i}`, T0 + i, 3));
    updates.push(see("user:idx", "devices", "d1", T0, 3));
    await store.write(updates, T0 + 3);
    expect(await admin.exists(indexKey("user:idx", "ips"))).toBe(0);

    await store.write([see("user:idx", "ips", "ip3", T0 + 10, 3)], T0 + 10);
    const key = indexKey("user:idx", "ips");
    expect(key).toBe(`${RUN}:{user:idx}:p:z:ips`);
    expect(await admin.zrange(key, 0, -1, "WITHSCORES")).toEqual([
      "ip1",
      String(T0 + 1),
      "ip2",
      String(T0 + 2),
      "ip3",
      String(T0 + 10),
    ]);
    expect(await admin.pttl(key)).toBeGreaterThan(179 * DAY);
    expect(await admin.exists(indexKey("user:idx", "devices"))).toBe(0);
    expect(await valuesOf("user:idx", "ips")).toEqual(["ip1", "ip2", "ip3"]);
    expect(await admin.hget(store.key("user:idx", "profile"), `c${FIELD_SEP}ips`)).toBe("3");
  });

  it("evicts by the real last-seen time although the index learns of repeat sightings late", async () => {
    // ip1 and ip2 are the least recent in the index; seeing them again makes ip3 the one to go
    await store.write([see("user:idx", "ips", "ip1", T0 + 20, 3), see("user:idx", "ips", "ip2", T0 + 21, 3)], T0 + 21);
    await store.write([see("user:idx", "ips", "ip4", T0 + 22, 3)], T0 + 22);
    expect(await valuesOf("user:idx", "ips")).toEqual(["ip1", "ip2", "ip4"]);
    // an older sighting never makes a value look less recent
    await store.write([see("user:idx", "ips", "ip4", T0 + 1, 3)], T0 + 23);
    await store.write([see("user:idx", "ips", "ip5", T0 + 24, 3)], T0 + 24);
    expect(await valuesOf("user:idx", "ips")).toEqual(["ip2", "ip4", "ip5"]);
  });

  it("rebuilds an index that missed values while its field was under a raised cap", async () => {
    const updates: StateUpdate[] = [];
    for (let i = 0; i < 3; i++) updates.push(see("user:raise", "devices", `d${i}`, T0 + 10 + i, 2));
    await store.write(updates, T0 + 13);
    expect(await valuesOf("user:raise", "devices")).toEqual(["d1", "d2"]);
    // the cap goes up: new values fit without eviction, and the index does not hear of them
    await store.write(
      [see("user:raise", "devices", "old", T0, 4), see("user:raise", "devices", "d3", T0 + 20, 4)],
      T0 + 20,
    );
    await store.write([see("user:raise", "devices", "d4", T0 + 21, 4)], T0 + 21);
    // "old" (seen at T0) was never in the index, yet it is the least recent and goes first
    expect(await valuesOf("user:raise", "devices")).toEqual(["d1", "d2", "d3", "d4"]);
    expect(await admin.zcard(indexKey("user:raise", "devices"))).toBe(4);
  });

  it("breaks ties between equally recent values by value, on every node alike", async () => {
    const updates = ["m", "b", "x", "a"].map((v) => see("user:tie", "hours", v, T0, 4));
    await store.write(updates, T0);
    await store.write([see("user:tie", "hours", "new", T0 + 1, 4)], T0 + 1);
    expect(await valuesOf("user:tie", "hours")).toEqual(["b", "m", "new", "x"]);
    await store.write([see("user:tie", "hours", "newer", T0 + 2, 3)], T0 + 2);
    expect(await valuesOf("user:tie", "hours")).toEqual(["new", "newer", "x"]);
  });

  it("builds the index from a profile written without one, once", async () => {
    // the previous layout: the values and their count in the hash, no index and no index flag
    const key = store.key("user:old", "profile");
    const stats: Record<string, string> = {};
    for (let i = 0; i < 5; i++) stats[`s${FIELD_SEP}asns${FIELD_SEP}as${i}`] = `${i + 1}:${T0}:${T0 + 100 - i}`;
    await admin.hset(key, { ...stats, [`c${FIELD_SEP}asns`]: "5", [`v${FIELD_SEP}x`]: "1" });
    await admin.pexpire(key, DAY);

    await store.write([see("user:old", "asns", "as9", T0 + 200, 5)], T0 + 200);
    // as4 was the least recently seen (T0 + 96)
    expect(await valuesOf("user:old", "asns")).toEqual(["as0", "as1", "as2", "as3", "as9"]);
    expect(await admin.zcard(indexKey("user:old", "asns"))).toBe(5);
    expect(await admin.hget(key, `c${FIELD_SEP}asns`)).toBe("5");

    // From now on eviction uses the index, not the hash: a value slipped into the hash behind the
    // index's back (as no writer does) is not seen by the next eviction, which a rescan would pick.
    await admin.hset(key, `s${FIELD_SEP}asns${FIELD_SEP}ghost`, `1:${T0}:${T0}`);
    await store.write([see("user:old", "asns", "as10", T0 + 300, 5)], T0 + 300);
    const after = await valuesOf("user:old", "asns");
    expect(after).toContain("ghost");
    expect(after).not.toContain("as3");
  });

  it("rebuilds an index that was lost (expired) while the profile lived on", async () => {
    const updates: StateUpdate[] = [];
    for (let i = 0; i < 4; i++) updates.push(see("user:lost", "countries", `c${i}`, T0 + i, 3));
    await store.write(updates, T0 + 4);
    expect(await valuesOf("user:lost", "countries")).toEqual(["c1", "c2", "c3"]);
    await admin.del(indexKey("user:lost", "countries"));
    await store.write([see("user:lost", "countries", "c1", T0 + 10, 3)], T0 + 10);
    await store.write([see("user:lost", "countries", "c9", T0 + 11, 3)], T0 + 11);
    expect(await valuesOf("user:lost", "countries")).toEqual(["c1", "c3", "c9"]);
    expect(await admin.zcard(indexKey("user:lost", "countries"))).toBe(3);
  });

  it("keeps a population field of 2,000 values at its cap without rescanning it", async () => {
    const updates: StateUpdate[] = [];
    for (let i = 0; i < 2_001; i++)
      updates.push(see("global:evict", "login_ips", `10.0.${i >> 8}.${i & 255}`, T0 + i, 2_000));
    await store.write(updates, T0 + 2_001);
    for (let i = 0; i < 50; i++) {
      await store.write([see("global:evict", "login_ips", `172.16.0.${i}`, T0 + 10_000 + i, 2_000)], T0 + 10_000 + i);
    }
    const key = store.key("global:evict", "profile");
    expect(await admin.zcard(indexKey("global:evict", "login_ips"))).toBe(2_000);
    expect(await admin.hget(key, `c${FIELD_SEP}login_ips`)).toBe("2000");
    const values = await valuesOf("global:evict", "login_ips");
    expect(values).toHaveLength(2_000);
    // the 51 least recent (the first 51 written) are gone
    expect(values).not.toContain("10.0.0.50");
    expect(values).toContain("10.0.0.51");
  });
});
