/** The shared text buffer's ring of regions: taken in order, given back oldest first. */

import { describe, expect, it } from "vitest";
import { TextRing } from "../../src/storage/text-ring.js";

describe("TextRing", () => {
  it("hands out regions one after another and starts over when all are back", () => {
    const ring = new TextRing(100);
    expect(ring.reserve(101)).toBeUndefined();
    expect(ring.reserve(40)).toBe(0);
    ring.hold(0, 30);
    expect(ring.reserve(40)).toBe(30);
    ring.hold(30, 60);
    expect(ring.reserve(41)).toBeUndefined(); // 40 left at the end, none before the oldest
    ring.release();
    ring.release();
    expect(ring.count).toBe(0);
    expect(ring.reserve(100)).toBe(0);
  });

  it("wraps around to the space the oldest regions gave back, never over a region in flight", () => {
    const ring = new TextRing(100);
    ring.hold(0, 40);
    ring.hold(40, 80);
    ring.release(); // [0, 40) is free again, [40, 80) is in flight
    expect(ring.reserve(20)).toBe(80); // fits at the end
    expect(ring.reserve(39)).toBe(0); // not at the end: wraps
    expect(ring.reserve(40)).toBeUndefined(); // would end where the oldest starts
    ring.hold(0, 25);
    // Wrapped: free space is only between the newest and the oldest region.
    expect(ring.reserve(14)).toBe(25);
    expect(ring.reserve(15)).toBeUndefined();
    ring.release(); // [40, 80) back; [0, 25) in flight
    expect(ring.reserve(75)).toBe(25);
    expect(ring.reserve(76)).toBeUndefined();
    ring.clear();
    expect(ring.reserve(100)).toBe(0);
  });
});
