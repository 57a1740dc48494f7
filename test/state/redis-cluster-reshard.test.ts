/**
 * Redis state on a Redis Cluster through a resharding (ADR 0020): three cluster-enabled masters of
 * the test's own on free loopback ports. A store splits its coalesced calls by node, grouping the
 * keys of many slots into one script call per master. When a slot moves to another master, the
 * call grouped for its old master fails there ("non local key"). The scripts check every key
 * before they change anything, so nothing of the failed call ran; the store sends it again split by
 * slot, which the client's own redirections route, and refreshes its slot table for later calls.
 * What was learned survives the move, nothing is applied twice (a counter counts each increment
 * once, a token is claimed once), and the identities left on the old master answer in the same turn.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStateStore } from "../../src/state/open-state.js";
import type { StateQuery, StateUpdate } from "../../src/state/port.js";
import type { RedisStateStore } from "../../src/state/redis.js";
import { keySlot } from "../../src/state/redis-cluster-slot.js";
import { RedisClusterSet } from "../scaleout/redis-cluster-set.js";
import { redisServerFor } from "../scaleout/redis-process.js";
import { see } from "./conformance.js";

const RUN = `sbreshard-${randomUUID().slice(0, 8)}`;
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const installed = await redisServerFor("the Redis Cluster resharding tests");

describe.skipIf(!installed)("redis state on a Redis Cluster while slots move", () => {
  let dir: string;
  let cluster: RedisClusterSet;
  let stores = 0;

  const open = async () =>
    (await openStateStore(`${cluster.url}?prefix=${RUN}:${++stores}:&timeout_ms=2000`, dir)) as RedisStateStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-redis-reshard-"));
    cluster = await RedisClusterSet.start(dir);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * `count` names made by `name(i)` whose keys (made by `keyOf`) live on one master, each in a slot
   * of its own, and another master to move slots to.
   */
  async function onOneMaster(
    count: number,
    name: (i: number) => string,
    keyOf: (name: string) => string,
  ): Promise<{ names: string[]; home: number; elsewhere: number }> {
    const home = cluster.ports[0] as number;
    const names: string[] = [];
    const slots = new Set<number>();
    for (let i = 0; names.length < count; i++) {
      const candidate = name(i);
      const key = keyOf(candidate);
      if (slots.has(keySlot(key)) || (await cluster.portOf(key)) !== home) continue;
      slots.add(keySlot(key));
      names.push(candidate);
    }
    return { names, home, elsewhere: cluster.ports[1] as number };
  }

  const logins = (user: string, at: number): StateUpdate => ({
    op: "incr",
    counter: `${user}:logins`,
    windowMs: HOUR,
    at,
    by: 1,
  });
  const query = (users: readonly string[]): StateQuery => ({
    profiles: users,
    counters: users.map((u) => ({ key: `${u}:logins`, windowMs: HOUR })),
    claims: [],
  });
  const devicesOf = (snapshot: Awaited<ReturnType<RedisStateStore["read"]>>, user: string) =>
    Object.keys(snapshot.profiles.get(user)?.sets.devices ?? {}).sort();

  it("sends a call grouped for a master that lost a slot again by slot: nothing lost, nothing applied twice", async () => {
    const store = await open();
    try {
      expect(store.clusterSplit).toBe("node");
      const {
        names: [stays, moves],
        home,
        elsewhere,
      } = await onOneMaster(
        2,
        (i) => `user:r${i}`,
        (u) => store.key(u, "profile"),
      );
      if (stays === undefined || moves === undefined) throw new Error("two identities on one master were not found");
      // One turn, one call to their master: both learn a device and count a login.
      await Promise.all([
        store.write([see(stays, "devices", "s1", T0), logins(stays, T0)], T0),
        store.write([see(moves, "devices", "m1", T0), logins(moves, T0)], T0),
      ]);
      expect(devicesOf(await store.read(query([stays, moves]), T0 + 1), moves)).toEqual(["m1"]);

      await cluster.migrateSlot(keySlot(store.key(moves, "profile")), elsewhere);
      expect(await cluster.portOf(store.key(moves, "profile"))).toBe(elsewhere);
      expect(await cluster.portOf(store.key(stays, "profile"))).toBe(home);

      // The store's slot table still names the old master: this turn's write is grouped for it. The
      // identity that stays comes first, so a script that ran until the moved key would have counted
      // its login already, and counted it again when sent once more.
      const retries = store.slotMovedRetries;
      await Promise.all([
        store.write([see(stays, "devices", "s2", T0 + 2), logins(stays, T0 + 2)], T0 + 2),
        store.write([see(moves, "devices", "m2", T0 + 2), logins(moves, T0 + 2)], T0 + 2),
      ]);
      expect(store.slotMovedRetries).toBeGreaterThan(retries);
      const snapshot = await store.read(query([stays, moves]), T0 + 3);
      expect(devicesOf(snapshot, stays)).toEqual(["s1", "s2"]);
      expect(devicesOf(snapshot, moves)).toEqual(["m1", "m2"]);
      expect(snapshot.counters.get(`${stays}:logins`)?.count).toBe(2);
      expect(snapshot.counters.get(`${moves}:logins`)?.count).toBe(2);
      // The moved identity's keys are on its new master, and its profile is not on the old one.
      const moved = await cluster.keysOn(elsewhere, `${RUN}:${stores}:*`);
      expect(moved).toContain(store.key(moves, "profile"));
      expect(await cluster.keysOn(home, `${RUN}:${stores}:*`)).not.toContain(store.key(moves, "profile"));

      // Later calls are grouped by the refreshed slot table: no more retries.
      const after = store.slotMovedRetries;
      await Promise.all([store.write([logins(stays, T0 + 4)], T0 + 4), store.write([logins(moves, T0 + 4)], T0 + 4)]);
      const last = await store.read(query([stays, moves]), T0 + 5);
      expect(last.counters.get(`${moves}:logins`)?.count).toBe(3);
      expect(store.slotMovedRetries).toBe(after);
    } finally {
      await store.flushPrefix();
      await store.close();
    }
  });

  it("claims a token once when the read that claims it is sent again after its slot moved", async () => {
    const store = await open();
    const other = (await openStateStore(
      `${cluster.url}?prefix=${RUN}:${stores}:&timeout_ms=2000`,
      dir,
    )) as RedisStateStore;
    try {
      const {
        names: [first, second],
        elsewhere,
      } = await onOneMaster(
        2,
        (i) => `token:jti-${i}`,
        (t) => store.key(t, "claim"),
      );
      if (first === undefined || second === undefined) throw new Error("two tokens on one master were not found");
      // Both stores learn the slot table while every slot is where the cluster was created.
      await store.read({ profiles: [], counters: [], claims: [] }, T0);
      await other.read({ profiles: [], counters: [], claims: [] }, T0);
      await cluster.migrateSlot(keySlot(store.key(second, "claim")), elsewhere);
      // One call claims both, the token that stays first: a script that ran until the moved key
      // would have claimed it already, and found it taken (by itself) when sent again.
      const claims = (holder: string): StateQuery => ({
        profiles: [],
        counters: [],
        claims: [first, second].map((key) => ({ key, holder: { node: holder }, ttlMs: 60_000 })),
      });
      const mine = await store.read(claims("a"), T0 + 1);
      expect(mine.claims.get(first)).toEqual({ won: true, first: { node: "a" } });
      expect(mine.claims.get(second)).toEqual({ won: true, first: { node: "a" } });
      expect(store.slotMovedRetries).toBeGreaterThan(0);
      // The other node, also behind on the slot table, finds both taken by the first.
      const theirs = await other.read(claims("b"), T0 + 2);
      expect(theirs.claims.get(first)).toEqual({ won: false, first: { node: "a" } });
      expect(theirs.claims.get(second)).toEqual({ won: false, first: { node: "a" } });
    } finally {
      await store.flushPrefix();
      await store.close();
      await other.close();
    }
  });

  it("answers while a slot is still migrating (its keys moved, the old master redirecting with ASK), then after", async () => {
    const store = await open();
    try {
      const {
        names: [stays, moves],
        elsewhere,
      } = await onOneMaster(
        2,
        (i) => `user:m${i}`,
        (u) => store.key(u, "profile"),
      );
      if (stays === undefined || moves === undefined) throw new Error("two identities on one master were not found");
      await Promise.all([
        store.write([see(stays, "devices", "s1", T0), logins(stays, T0)], T0),
        store.write([see(moves, "devices", "m1", T0), logins(moves, T0)], T0),
      ]);
      const slot = keySlot(store.key(moves, "profile"));
      await cluster.migrateSlot(slot, elsewhere, false);
      await Promise.all([
        store.write([see(stays, "devices", "s2", T0 + 1), logins(stays, T0 + 1)], T0 + 1),
        store.write([see(moves, "devices", "m2", T0 + 1), logins(moves, T0 + 1)], T0 + 1),
      ]);
      const during = await store.read(query([stays, moves]), T0 + 2);
      expect(devicesOf(during, moves)).toEqual(["m1", "m2"]);
      expect(during.counters.get(`${moves}:logins`)?.count).toBe(2);
      expect(during.counters.get(`${stays}:logins`)?.count).toBe(2);
      await cluster.migrateSlot(slot, elsewhere);
      const after = await store.read(query([stays, moves]), T0 + 3);
      expect(devicesOf(after, moves)).toEqual(["m1", "m2"]);
      expect(devicesOf(after, stays)).toEqual(["s1", "s2"]);
      expect(after.counters.get(`${moves}:logins`)?.count).toBe(2);
    } finally {
      await store.flushPrefix();
      await store.close();
    }
  });
});
