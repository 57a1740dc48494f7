/**
 * The Redis adapter's node-local copy of population profiles (`global:*`) and its coalesced reads and writes,
 * on a real Redis: two stores stand for two decision nodes sharing one Redis.
 */

import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import type { StateQuery, StateUpdate } from "../../src/state/port.js";
import { RedisStateStore } from "../../src/state/redis.js";
import { redisAnswers } from "../support/redis-probe.js";

const URL = process.env.SIGNALBOX_TEST_REDIS ?? "redis://127.0.0.1:6379/0";
const RUN = `sbpop-${randomUUID().slice(0, 8)}`;
const T0 = 1_700_000_000_000;
const REFRESH_MS = 200;

const up = await redisAnswers(URL);
if (!up && process.env.CI === "true")
  throw new Error(`redis is not reachable at '${URL}' and CI=true: refusing to skip`);

const opened: RedisStateStore[] = [];
async function node(populationRefreshMs = REFRESH_MS): Promise<RedisStateStore> {
  const s = new RedisStateStore({ url: URL, keyPrefix: `${RUN}:`, populationRefreshMs });
  await s.ready();
  opened.push(s);
  return s;
}
const profiles = (...keys: string[]): StateQuery => ({ profiles: keys, counters: [], claims: [] });
const see = (profile: string, value: string, at = T0): StateUpdate => ({
  op: "see",
  profile,
  field: "login_ips",
  value,
  at,
  cap: 100,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!up)("redis population profiles and coalesced script calls", () => {
  afterAll(async () => {
    await opened[0]?.flushPrefix();
    for (const s of opened) await s.close();
  });

  it("serves population profiles from the node's copy until the refresh interval has passed", async () => {
    const a = await node();
    const b = await node();
    await a.write([see("global:pop", "1.1.1.1")], T0);
    const first = (await b.read(profiles("global:pop"), T0)).profiles.get("global:pop");
    expect(Object.keys(first?.sets.login_ips ?? {})).toEqual(["1.1.1.1"]);

    await a.write([see("global:pop", "2.2.2.2")], T0);
    const cached = (await b.read(profiles("global:pop"), T0)).profiles.get("global:pop");
    // the same immutable copy: B has not fetched again, so it does not see A's write yet
    expect(cached).toBe(first);
    expect(Object.keys(cached?.sets.login_ips ?? {})).toEqual(["1.1.1.1"]);
    expect(Object.isFrozen(cached?.sets.login_ips)).toBe(true);
    expect(Object.isFrozen(cached?.sets.login_ips?.["1.1.1.1"])).toBe(true);

    await sleep(REFRESH_MS + 50);
    const refreshed = (await b.read(profiles("global:pop"), T0)).profiles.get("global:pop");
    expect(Object.keys(refreshed?.sets.login_ips ?? {}).sort()).toEqual(["1.1.1.1", "2.2.2.2"]);
    // the copy was replaced, not changed: a snapshot taken before still holds what it read
    expect(Object.keys(first?.sets.login_ips ?? {})).toEqual(["1.1.1.1"]);
  });

  it("reads identity profiles through, never from a copy", async () => {
    const a = await node();
    const b = await node();
    await b.read(profiles("user:pop", "global:pop2"), T0);
    await a.write([see("user:pop", "3.3.3.3"), see("global:pop2", "3.3.3.3")], T0);
    const snap = await b.read(profiles("user:pop", "global:pop2"), T0);
    expect(Object.keys(snap.profiles.get("user:pop")?.sets.login_ips ?? {})).toEqual(["3.3.3.3"]);
    expect(snap.profiles.get("global:pop2")?.sets).toEqual({});
  });

  it("reads population profiles from Redis every time when the interval is 0", async () => {
    const a = await node(0);
    const b = await node(0);
    await b.read(profiles("global:pop3"), T0);
    await a.write([see("global:pop3", "4.4.4.4")], T0);
    const snap = await b.read(profiles("global:pop3"), T0);
    expect(Object.keys(snap.profiles.get("global:pop3")?.sets.login_ips ?? {})).toEqual(["4.4.4.4"]);
  });

  it("fetches a stale copy once for all the reads that need it, within their round trip", async () => {
    const a = await node();
    await a.write([see("global:pop4", "5.5.5.5")], T0);
    const b = await node();
    const before = b.roundTrips;
    const snaps = await Promise.all(Array.from({ length: 10 }, () => b.read(profiles("global:pop4"), T0)));
    expect(b.roundTrips - before).toBe(1);
    const copies = new Set(snaps.map((s) => s.profiles.get("global:pop4")));
    expect(copies.size).toBe(1);
    // a fresh copy and no other key: no round trip at all
    await b.read(profiles("global:pop4"), T0);
    expect(b.roundTrips - before).toBe(1);
  });

  it("sends the writes issued in one turn as one script call, each applied", async () => {
    const a = await node();
    const calls = a.writes.calls;
    const before = a.roundTrips;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        a.write(
          [
            see(`user:w${i}`, `10.0.0.${i}`),
            { op: "incr", counter: "global:pop:hits", at: T0, by: 1, windowMs: 60_000 },
            { op: "set", profile: `user:w${i}`, field: "n", value: i },
          ],
          T0,
        ),
      ),
    );
    expect(a.writes.calls - calls).toBe(1);
    expect(a.roundTrips - before).toBe(1);
    const snap = await a.read(
      { profiles: ["user:w7", "user:w19"], counters: [{ key: "global:pop:hits", windowMs: 60_000 }], claims: [] },
      T0,
    );
    expect(snap.counters.get("global:pop:hits")?.count).toBe(20);
    expect(snap.profiles.get("user:w7")?.values.n).toBe(7);
    expect(Object.keys(snap.profiles.get("user:w19")?.sets.login_ips ?? {})).toEqual(["10.0.0.19"]);
  });

  it("shares one read script call among the reads of one turn, each getting its own counters and claims", async () => {
    const a = await node();
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        a.write([{ op: "incr", counter: `user:r${i}:hits`, at: T0, by: i + 1, windowMs: 60_000 }], T0),
      ),
    );
    const calls = a.reads.calls;
    const before = a.roundTrips;
    const snaps = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        a.read(
          {
            profiles: [`user:r${i}`],
            counters: [{ key: `user:r${i}:hits`, windowMs: 60_000 }],
            claims: [{ key: "jti:shared", holder: { reader: i }, ttlMs: 60_000 }],
          },
          T0,
        ),
      ),
    );
    expect(a.reads.calls - calls).toBe(1);
    expect(a.roundTrips - before).toBe(1);
    expect(snaps.map((s, i) => s.counters.get(`user:r${i}:hits`)?.count)).toEqual([1, 2, 3, 4, 5, 6]);
    // claims in one call are taken in order: the first reader wins, all see it as the holder
    expect(snaps.map((s) => s.claims.get("jti:shared")?.won)).toEqual([true, false, false, false, false, false]);
    for (const s of snaps) expect(s.claims.get("jti:shared")?.first).toEqual({ reader: 0 });
  });

  it("sends one script call per read and per write when coalescing is off", async () => {
    const s = new RedisStateStore({ url: URL, keyPrefix: `${RUN}:`, coalesce: false });
    await s.ready();
    opened.push(s);
    const before = s.roundTrips;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        s.write([{ op: "incr", counter: "global:pop:solo", at: T0, by: 1, windowMs: 60_000 }], T0),
      ),
    );
    expect(s.roundTrips - before).toBe(5);
    expect(s.writes.calls).toBe(0);
    await Promise.all(
      Array.from({ length: 3 }, () =>
        s.read({ profiles: [], counters: [{ key: "global:pop:solo", windowMs: 60_000 }], claims: [] }, T0),
      ),
    );
    expect(s.roundTrips - before).toBe(8);
    expect(s.reads.calls).toBe(0);
  });
});
