/** The SQLite adapter's mirror: row changes of one turn coalesce into one statement run per row, with the final value, and give the same file as writing one at a time. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import type { StateUpdate } from "../../src/state/port.js";
import { SqliteStateStore } from "../../src/state/sqlite.js";
import { ExpiryIndex } from "../../src/state/sqlite-expiry.js";
import { SqliteMirror } from "../../src/state/sqlite-mirror.js";

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), "signalbox-state-mirror-"));
let n = 0;
const nextFile = () => join(dir, `state-${++n}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sqlite mirror coalescing", () => {
  it("writes one upsert per row per batch, carrying the row's final value", () => {
    const mirror = new SqliteMirror(new ExpiryIndex(60_000), DAY);
    const stats = { n: 1, first: T0, last: T0 };
    mirror.touched("user:a", T0);
    mirror.seen("user:a", "devices", "d1", stats);
    stats.n = 2;
    stats.last = T0 + 5;
    mirror.touched("user:a", T0 + 5);
    mirror.seen("user:a", "devices", "d1", stats);
    mirror.valueSet("user:a", "x", 1);
    mirror.valueSet("user:a", "x", { final: true });
    mirror.counted("c", 7, 1, 10_000);
    mirror.counted("c", 7, 4, 10_000);
    mirror.claimed("k", { who: "x" }, T0 + 100);
    expect(mirror.drain()).toEqual([
      ["touchProfile", "user:a", T0],
      ["putSeen", "user:a", "devices", "d1", 2, T0, T0 + 5],
      ["putValue", "user:a", "x", '{"final":true}'],
      ["putCount", "c", 7, 4, 18_000],
      ["putClaim", "k", '{"who":"x"}', T0 + 100],
    ]);
    expect(mirror.dirty).toBe(false);
    expect(mirror.drain()).toEqual([]);
  });

  it("rewrites a profile's touched time only once it has moved on by a hundredth of the retention", () => {
    const expiry = new ExpiryIndex(60_000);
    const mirror = new SqliteMirror(expiry, 100 * DAY);
    mirror.touched("user:a", T0);
    expect(mirror.drain()).toEqual([["touchProfile", "user:a", T0]]);
    mirror.touched("user:a", T0 + DAY - 1);
    mirror.touched("user:a", T0 - 5 * DAY);
    expect(mirror.drain()).toEqual([]);
    expect(expiry.dueOf("profile", "user:a")).toBe(T0 + 100 * DAY);
    mirror.touched("user:a", T0 + DAY);
    expect(mirror.drain()).toEqual([["touchProfile", "user:a", T0 + DAY]]);
    expect(expiry.dueOf("profile", "user:a")).toBe(T0 + 101 * DAY);
  });

  it("lets an eviction replace an upsert of the same value, and a later see replace the eviction", () => {
    const mirror = new SqliteMirror(new ExpiryIndex(60_000), DAY);
    mirror.seen("user:a", "ips", "1", { n: 1, first: T0, last: T0 });
    mirror.evicted("user:a", "ips", "1");
    mirror.seen("user:a", "ips", "2", { n: 1, first: T0, last: T0 });
    expect(mirror.drain()).toEqual([
      ["deleteSeen", "user:a", "ips", "1"],
      ["putSeen", "user:a", "ips", "2", 1, T0, T0],
    ]);
    mirror.evicted("user:a", "ips", "2");
    mirror.seen("user:a", "ips", "2", { n: 1, first: T0 + 1, last: T0 + 1 });
    expect(mirror.drain()).toEqual([["putSeen", "user:a", "ips", "2", 1, T0 + 1, T0 + 1]]);
  });

  it("keeps rows written after a whole-entry drop in the same turn, and deletes those before it", () => {
    const mirror = new SqliteMirror(new ExpiryIndex(60_000), DAY);
    mirror.valueSet("user:a", "x", 1);
    mirror.dropped("profile", "user:a");
    mirror.valueSet("user:a", "x", 2);
    expect(mirror.drain()).toEqual([
      ["putValue", "user:a", "x", "1"],
      ["dropProfileSets", "user:a"],
      ["dropProfileValues", "user:a"],
      ["dropProfile", "user:a"],
      ["putValue", "user:a", "x", "2"],
    ]);
  });

  it("keeps rows apart whatever their keys hold (no two rows share an identity)", () => {
    const mirror = new SqliteMirror(new ExpiryIndex(60_000), DAY);
    mirror.valueSet("a\u0000b", "c", 1);
    mirror.valueSet("a", "b\u0000c", 2);
    mirror.valueSet("a1:b", "c", 3);
    expect(mirror.drain()).toHaveLength(3);
  });
});

/** A small deterministic generator, so a failing case can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random writes over a few profiles and counters, with small caps so eviction happens often, and ties in `at`. */
function randomWrites(seed: number, count: number): StateUpdate[][] {
  const rnd = lcg(seed);
  const pick = (k: number) => Math.floor(rnd() * k);
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + pick(4) }, (): StateUpdate => {
      const profile = `user:p${pick(3)}`;
      const kind = pick(12);
      if (kind === 0) return { op: "set", profile, field: `f${pick(2)}`, value: { v: pick(100), tag: [pick(3)] } };
      if (kind === 1) return { op: "incr", counter: `c${pick(2)}`, at: T0 + pick(5_000), by: 1, windowMs: 60_000 };
      if (kind === 2) {
        return {
          op: "distinct",
          counter: `c${pick(2)}`,
          member: `m${pick(5)}`,
          at: T0 + pick(5_000),
          windowMs: 60_000,
        };
      }
      return {
        op: "see",
        profile,
        field: `s${pick(2)}`,
        value: pick(2) === 0 ? String(pick(30)) : `v${pick(30)}`,
        at: T0 + pick(20) * 100,
        cap: 1 + pick(6),
      };
    }),
  );
}

function dump(file: string): unknown {
  const db = new Database(file, { readonly: true });
  const all = (sql: string) => db.prepare(sql).all();
  const out = {
    profiles: all("SELECT * FROM profiles ORDER BY key"),
    sets: all("SELECT * FROM profile_sets ORDER BY key, field, value"),
    values: all("SELECT * FROM profile_values ORDER BY key, field"),
    counters: all("SELECT * FROM counters ORDER BY key, bucket"),
    members: all("SELECT * FROM distinct_members ORDER BY key, bucket, member"),
  };
  db.close();
  return out;
}

describe("sqlite mirror against the file", () => {
  it("gives the same file for writes coalesced in one turn as for the same writes committed one at a time", async () => {
    for (const seed of [1, 2, 3]) {
      const writes = randomWrites(seed, 150);
      const [a, b] = [nextFile(), nextFile()];
      const batched = await SqliteStateStore.open({ file: a });
      const oneByOne = await SqliteStateStore.open({ file: b });
      await Promise.all(writes.map((w) => batched.write(w, T0)));
      for (const w of writes) await oneByOne.write(w, T0);
      await batched.close();
      await oneByOne.close();
      expect(dump(a)).toEqual(dump(b));
      // and a restart reads back what memory held
      const reopened = await SqliteStateStore.open({ file: a });
      const fresh = await SqliteStateStore.open({ file: ":memory:" });
      for (const w of writes) await fresh.write(w, T0);
      const query = {
        profiles: ["user:p0", "user:p1", "user:p2"],
        counters: [
          { key: "c0", windowMs: 60_000 },
          { key: "c1", windowMs: 60_000 },
        ],
        claims: [],
      };
      const got = await reopened.read(query, T0 + 5_000);
      const want = await fresh.read(query, T0 + 5_000);
      expect([...got.counters]).toEqual([...want.counters]);
      for (const key of query.profiles) {
        const [g, w] = [got.profiles.get(key), want.profiles.get(key)];
        // a field's key order may differ after a restart (rows load in key order); the content may not
        for (const field of Object.keys(w?.sets ?? {})) expect(g?.sets[field]).toEqual(w?.sets[field]);
        expect(Object.keys(g?.sets ?? {}).sort()).toEqual(Object.keys(w?.sets ?? {}).sort());
        expect(g?.values).toEqual(w?.values);
      }
      await reopened.close();
      await fresh.close();
    }
  });
});

describe("sqlite mirror expiry", () => {
  it("writes no statement of its own for an expired entry, only the batch's deletion of expired rows", () => {
    const mirror = new SqliteMirror(new ExpiryIndex(60_000), DAY);
    mirror.expired("counter", "c", T0);
    mirror.expired("claim", "k", T0 + 5);
    expect(mirror.drain()).toEqual([
      ["pruneCounters", T0 + 5],
      ["pruneMembers", T0 + 5],
      ["pruneClaims", T0 + 5],
      ["prunePending", T0 + 5],
    ]);
  });
});
