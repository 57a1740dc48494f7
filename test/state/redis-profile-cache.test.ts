/** The Redis adapter's node-local profile copies on their own, without Redis: LRU bound, writes applied by version, drops. */

import { describe, expect, it } from "vitest";
import type { Profile } from "../../src/state/port.js";
import { CHECK_WINDOW, type CopyOp, ProfileCopies, SUSPENDED_READS } from "../../src/state/redis-profile-cache.js";
import { FIELD_SEP } from "../../src/state/redis-scripts.js";
import { see } from "./conformance.js";

const T0 = 1_700_000_000_000;
const set = (profile: string, field: string, value: unknown): CopyOp => ({
  op: "set",
  profile,
  field,
  json: JSON.stringify(value),
});
const alice = (): Profile => ({
  sets: { devices: { d1: { n: 1, first: T0, last: T0 } }, hours: { h1: { n: 2, first: T0, last: T0 + 1 } } },
  values: { last: { lat: 1 } },
});

describe("profile copies", () => {
  it("keeps at most its capacity, dropping the least recently used", () => {
    const copies = new ProfileCopies(2);
    copies.keep("user:a", 1, alice());
    copies.keep("user:b", 1, alice());
    expect(copies.get("user:a")?.version).toBe(1);
    copies.keep("user:c", 1, alice());
    expect(copies.size).toBe(2);
    expect(copies.peek("user:b")).toBeUndefined();
    expect(copies.peek("user:a")).toBeDefined();
    expect(copies.peek("user:c")).toBeDefined();
  });

  it("covers identity profiles only, and none with capacity 0; keeps no copy of a hash without a version", () => {
    expect(new ProfileCopies(10).covers("user:a")).toBe(true);
    expect(new ProfileCopies(10).covers("global:login")).toBe(false);
    expect(new ProfileCopies(0).covers("user:a")).toBe(false);
    const copies = new ProfileCopies(10);
    copies.keep("user:a", 3, alice());
    copies.keep("user:a", undefined, alice());
    expect(copies.peek("user:a")).toBeUndefined();
  });

  it("applies a write in place to a copy at the version the write started from, in order", () => {
    const copies = new ProfileCopies(10);
    const held = alice();
    copies.keep("user:a", 5, held);
    copies.afterWrite(
      [
        see("user:a", "devices", "d1", T0 + 10),
        set("user:b", "x", 1),
        see("user:a", "devices", "d2", T0 + 11),
        set("user:a", "last", { lat: 2 }),
        see("user:a", "devices", "d1", T0 - 10),
      ],
      // user:a first, then user:b: the order the call first touched them
      [5, 9, 0, 0, 4, 0],
    );
    expect(copies.peek("user:a")).toEqual({
      version: 9,
      profile: {
        sets: {
          devices: { d1: { n: 3, first: T0 - 10, last: T0 + 10 }, d2: { n: 1, first: T0 + 11, last: T0 + 11 } },
          hours: { h1: { n: 2, first: T0, last: T0 + 1 } },
        },
        values: { last: { lat: 2 } },
      },
    });
    // the copy a snapshot holds is the one changed (live, as the memory adapter's profiles)
    expect(copies.peek("user:a")?.profile).toBe(held);
    expect(copies.peek("user:b")).toBeUndefined();
    expect(copies.stats).toMatchObject({ applied: 1, dropped: 0 });
  });

  it("leaves a copy untouched when a write would take a field over its cap, even late in the write", () => {
    const copies = new ProfileCopies(10);
    const held = alice();
    copies.keep("user:a", 5, held);
    copies.afterWrite(
      [
        set("user:a", "last", { lat: 9 }),
        see("user:a", "devices", "d2", T0 + 1, 3),
        see("user:a", "devices", "d2", T0 + 2, 3),
        see("user:a", "devices", "d3", T0 + 3, 3),
        see("user:a", "devices", "d4", T0 + 4, 3),
      ],
      [5, 9, 0],
    );
    expect(copies.peek("user:a")).toBeUndefined();
    expect(held).toEqual(alice());
    // the same values within the cap are applied
    copies.keep("user:a", 5, held);
    copies.afterWrite(
      [see("user:a", "devices", "d2", T0 + 1, 3), see("user:a", "devices", "d2", T0 + 2, 3)],
      [5, 9, 0],
    );
    expect(Object.keys(copies.peek("user:a")?.profile.sets.devices ?? {})).toEqual(["d1", "d2"]);
  });

  it("drops a copy the write did not start from, one that Redis evicted from, and one the memory rules evict from", () => {
    const copies = new ProfileCopies(10);
    copies.keep("user:a", 5, alice());
    copies.keep("user:b", 5, alice());
    copies.keep("user:c", 5, alice());
    copies.afterWrite(
      [see("user:a", "devices", "d9", T0), see("user:b", "devices", "d9", T0), see("user:c", "devices", "d9", T0, 1)],
      [4, 9, 0, 5, 9, 1, 5, 9, 0],
    );
    expect([copies.peek("user:a"), copies.peek("user:b"), copies.peek("user:c")]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(copies.stats.dropped).toBe(3);
  });

  it("drops the copies when the reply does not fit the ops, when a field holds the separator, or the call failed", () => {
    const copies = new ProfileCopies(10);
    copies.keep("user:a", 5, alice());
    copies.afterWrite([see("user:a", "devices", "d9", T0)], [5, 9]);
    expect(copies.peek("user:a")).toBeUndefined();
    copies.keep("user:a", 5, alice());
    copies.afterWrite([see("user:a", `dev${FIELD_SEP}x`, "d9", T0)], [5, 9, 0]);
    expect(copies.peek("user:a")).toBeUndefined();
    copies.keep("user:a", 5, alice());
    copies.afterFailedWrite([set("user:a", "x", 1)]);
    expect(copies.peek("user:a")).toBeUndefined();
  });

  describe("set aside when most checks miss", () => {
    /** `misses` out of a whole window of checks found the copy out of date. */
    const checks = (copies: ProfileCopies, misses: number) => {
      for (let i = 0; i < CHECK_WINDOW; i++) {
        if (i < misses) copies.miss();
        else copies.hit();
      }
    };

    it("drops every copy and stops keeping them when more than half of a window missed", () => {
      const copies = new ProfileCopies(10);
      copies.keep("user:a", 1, alice());
      checks(copies, CHECK_WINDOW / 2 + 1);
      expect(copies.suspended).toBe(true);
      expect(copies.stats.suspensions).toBe(1);
      expect(copies.size).toBe(0);
      expect(copies.covers("user:a")).toBe(false);
      copies.keep("user:b", 2, alice());
      expect(copies.size).toBe(0);
    });

    it("keeps using copies when half or fewer missed", () => {
      const copies = new ProfileCopies(10);
      copies.keep("user:a", 1, alice());
      checks(copies, CHECK_WINDOW / 2);
      checks(copies, 0);
      expect(copies.suspended).toBe(false);
      expect(copies.stats.suspensions).toBe(0);
      expect(copies.peek("user:a")?.version).toBe(1);
      expect(copies.covers("user:a")).toBe(true);
    });

    it("judges each window on its own, so misses spread over two windows do not add up", () => {
      const copies = new ProfileCopies(10);
      for (let i = 0; i < CHECK_WINDOW; i++) {
        if (i >= CHECK_WINDOW / 2) copies.miss();
        else copies.hit();
      }
      for (let i = 0; i < CHECK_WINDOW / 2; i++) copies.miss();
      expect(copies.suspended).toBe(false);
    });

    it("tries copies again after the suspended reads", () => {
      const copies = new ProfileCopies(10);
      checks(copies, CHECK_WINDOW);
      for (let i = 0; i < SUSPENDED_READS - 1; i++) copies.noteRead();
      expect(copies.covers("user:a")).toBe(false);
      copies.noteRead();
      expect(copies.suspended).toBe(false);
      expect(copies.covers("user:a")).toBe(true);
      copies.keep("user:a", 3, alice());
      expect(copies.peek("user:a")?.version).toBe(3);
    });
  });
});
