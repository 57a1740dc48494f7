/** The SQLite adapter's group commit, parsed-profile cache and copy-on-write drafts: same results as one write at a time. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import type { JsonValue } from "../../src/model/request.js";
import { emptyProfile, type Profile, type StateQuery, type StateUpdate } from "../../src/state/port.js";
import { ProfileDraft } from "../../src/state/profile-draft.js";
import { applyToProfile } from "../../src/state/profile-ops.js";
import { SqliteStateStore } from "../../src/state/sqlite.js";

const T0 = 1_700_000_000_000;
const dir = mkdtempSync(join(tmpdir(), "signalbox-state-batch-"));
let n = 0;
const nextFile = () => join(dir, `state-${++n}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const profileQuery = (...profiles: string[]): StateQuery => ({ profiles, counters: [], claims: [] });

/** A small deterministic generator, so a failing case can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random `see`/`set`/`incr` writes over a few profiles, with small caps so eviction happens often, and ties in `at`. */
function randomWrites(seed: number, count: number): StateUpdate[][] {
  const rnd = lcg(seed);
  const pick = (k: number) => Math.floor(rnd() * k);
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + pick(4) }, (): StateUpdate => {
      const profile = `user:p${pick(3)}`;
      const kind = pick(10);
      if (kind === 0) return { op: "set", profile, field: `f${pick(2)}`, value: { v: pick(100), tag: [pick(3)] } };
      if (kind === 1) return { op: "incr", counter: `c${pick(2)}`, at: T0 + pick(5_000), by: 1, windowMs: 60_000 };
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

function readAll(store: SqliteStateStore): unknown {
  const snap = store.readSync(
    {
      profiles: ["user:p0", "user:p1", "user:p2"],
      counters: [
        { key: "c0", windowMs: 60_000 },
        { key: "c1", windowMs: 60_000 },
      ],
      claims: [],
    },
    T0 + 5_000,
  );
  return { profiles: [...snap.profiles], counters: [...snap.counters] };
}

describe("sqlite state group commit", () => {
  it("gives the same state for writes batched in one turn as for the same writes one at a time", async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const writes = randomWrites(seed, 120);
      const batched = new SqliteStateStore({ file: ":memory:" });
      const oneByOne = new SqliteStateStore({ file: ":memory:" });
      await Promise.all(writes.map((w) => batched.write(w, T0)));
      for (const w of writes) oneByOne.writeSync(w, T0);
      expect(readAll(batched)).toEqual(readAll(oneByOne));
      await batched.close();
      await oneByOne.close();
    }
  });

  it("commits queued writes when the turn ends and resolves them only once they are committed", async () => {
    const file = nextFile();
    const store = new SqliteStateStore({ file });
    const other = new Database(file, { readonly: true });
    const profileRows = () => (other.prepare("SELECT COUNT(*) AS n FROM profiles").get() as { n: number }).n;
    const writes = [
      store.write([{ op: "see", profile: "user:a", field: "devices", value: "d1", at: T0, cap: 5 }], T0),
      store.write([{ op: "see", profile: "user:b", field: "devices", value: "d1", at: T0, cap: 5 }], T0),
    ];
    // queued, not yet committed: another connection sees nothing
    expect(profileRows()).toBe(0);
    await Promise.all(writes);
    expect(profileRows()).toBe(2);
    other.close();
    await store.close();
  });

  it("rejects every write of a failed batch, applies none of it, and keeps working", async () => {
    const store = new SqliteStateStore({ file: nextFile() });
    await store.write([{ op: "see", profile: "user:a", field: "devices", value: "d0", at: T0, cap: 5 }], T0);
    const good = store.write(
      [
        { op: "see", profile: "user:a", field: "devices", value: "d1", at: T0, cap: 5 },
        { op: "incr", counter: "c", at: T0, by: 1, windowMs: 60_000 },
      ],
      T0,
    );
    // a BigInt cannot be stored as JSON: the whole batch fails
    const bad = store.write([{ op: "set", profile: "user:b", field: "x", value: 1n as unknown as JsonValue }], T0);
    await expect(good).rejects.toThrow(/BigInt/);
    await expect(bad).rejects.toThrow(/BigInt/);
    const snap = await store.read({ profiles: ["user:a"], counters: [{ key: "c", windowMs: 60_000 }], claims: [] }, T0);
    expect(Object.keys(snap.profiles.get("user:a")?.sets.devices ?? {})).toEqual(["d0"]);
    expect(snap.counters.get("c")).toEqual({ count: 0, distinct: 0 });
    await store.write([{ op: "see", profile: "user:a", field: "devices", value: "d2", at: T0, cap: 5 }], T0);
    const after = await store.read(profileQuery("user:a"), T0);
    expect(Object.keys(after.profiles.get("user:a")?.sets.devices ?? {})).toEqual(["d0", "d2"]);
    await store.close();
  });

  it("commits queued writes on close", async () => {
    const file = nextFile();
    const store = new SqliteStateStore({ file });
    const pending = store.write([{ op: "set", profile: "user:a", field: "x", value: 1 }], T0);
    await store.close();
    await pending;
    const reopened = new SqliteStateStore({ file });
    expect((await reopened.read(profileQuery("user:a"), T0)).profiles.get("user:a")?.values).toEqual({ x: 1 });
    await reopened.close();
  });

  it("keeps arrival order between queued writes and writeSync", async () => {
    const store = new SqliteStateStore({ file: ":memory:" });
    const queued = store.write([{ op: "set", profile: "user:a", field: "x", value: 1 }], T0);
    store.writeSync([{ op: "set", profile: "user:a", field: "x", value: 2 }], T0);
    await queued;
    expect(store.readSync(profileQuery("user:a"), T0).profiles.get("user:a")?.values).toEqual({ x: 2 });
    await store.close();
  });

  it("serves reads and claims queued in the same turn, with exactly one winner", async () => {
    const store = new SqliteStateStore({ file: nextFile() });
    const claim = (who: number) =>
      store.read({ profiles: ["user:a"], counters: [], claims: [{ key: "k", holder: { who }, ttlMs: 60_000 }] }, T0);
    const reads = await Promise.all([claim(1), claim(2), claim(3)]);
    expect(reads.map((r) => r.claims.get("k"))).toEqual([
      { first: { who: 1 }, won: true },
      { first: { who: 1 }, won: false },
      { first: { who: 1 }, won: false },
    ]);
    expect(reads[0]?.profiles.get("user:a")).toEqual(emptyProfile());
    await store.close();
  });
});

describe("sqlite parsed-profile cache", () => {
  it("sees what another connection to the same file committed", async () => {
    const file = nextFile();
    const a = new SqliteStateStore({ file });
    const b = new SqliteStateStore({ file });
    await a.write([{ op: "see", profile: "user:x", field: "ips", value: "a1", at: T0, cap: 10 }], T0);
    expect(Object.keys((await a.read(profileQuery("user:x"), T0)).profiles.get("user:x")?.sets.ips ?? {})).toEqual([
      "a1",
    ]);
    expect(a.cachedProfiles()).toBe(1);
    await b.write([{ op: "see", profile: "user:x", field: "ips", value: "b1", at: T0, cap: 10 }], T0);
    // a's cached copy is stale now; the changed data_version makes a read it again
    expect(Object.keys((await a.read(profileQuery("user:x"), T0)).profiles.get("user:x")?.sets.ips ?? {})).toEqual([
      "a1",
      "b1",
    ]);
    await a.write([{ op: "see", profile: "user:x", field: "ips", value: "a2", at: T0, cap: 10 }], T0);
    expect(Object.keys((await b.read(profileQuery("user:x"), T0)).profiles.get("user:x")?.sets.ips ?? {})).toEqual([
      "a1",
      "b1",
      "a2",
    ]);
    await a.close();
    await b.close();
  });

  it("keeps at most profileCacheSize profiles and still reads the rest from the file", async () => {
    const store = new SqliteStateStore({ file: ":memory:", profileCacheSize: 2 });
    for (const key of ["user:a", "user:b", "user:c"])
      await store.write([{ op: "set", profile: key, field: "k", value: key }], T0);
    expect(store.cachedProfiles()).toBe(2);
    const snap = await store.read(profileQuery("user:a", "user:b", "user:c"), T0);
    expect([...snap.profiles.values()].map((p) => p.values.k)).toEqual(["user:a", "user:b", "user:c"]);
    await store.close();
  });

  it("does not let a caller's later change to a value it wrote reach the stored profile", async () => {
    const store = new SqliteStateStore({ file: ":memory:" });
    const value = { lat: 1, lon: 2 };
    await store.write([{ op: "set", profile: "user:a", field: "loc", value }], T0);
    value.lat = 99;
    expect((await store.read(profileQuery("user:a"), T0)).profiles.get("user:a")?.values.loc).toEqual({
      lat: 1,
      lon: 2,
    });
    await store.close();
  });

  it("reads a pruned profile as empty again", async () => {
    const store = new SqliteStateStore({ file: ":memory:", pruneEveryMs: 1_000, profileRetentionMs: 10_000 });
    await store.write([{ op: "set", profile: "user:a", field: "x", value: 1 }], T0);
    expect((await store.read(profileQuery("user:a"), T0)).profiles.get("user:a")?.values).toEqual({ x: 1 });
    await store.write([], T0 + 20_000);
    expect((await store.read(profileQuery("user:a"), T0 + 20_000)).profiles.get("user:a")).toEqual(emptyProfile());
    await store.close();
  });
});

describe("profile drafts", () => {
  it("apply see and set exactly as applyToProfile does, without changing the profile they start from", () => {
    for (const seed of [11, 12, 13, 14]) {
      const updates = randomWrites(seed, 300)
        .flat()
        .filter((u): u is Extract<StateUpdate, { op: "see" | "set" }> => u.op === "see" || u.op === "set");
      const reference: Profile = emptyProfile();
      let base: Profile = emptyProfile();
      for (let i = 0; i < updates.length; i += 7) {
        const before = JSON.stringify(base);
        const draft = new ProfileDraft(base, T0);
        for (const u of updates.slice(i, i + 7)) {
          applyToProfile(reference, u);
          draft.apply(u);
        }
        expect(JSON.stringify(base)).toBe(before);
        base = draft.profile;
        expect(JSON.parse(JSON.stringify(base))).toEqual(JSON.parse(JSON.stringify(reference)));
      }
    }
  });
});
