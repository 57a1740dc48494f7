/** The bounded LRU cache. */

import { describe, expect, it } from "vitest";
import { Lru } from "../../src/enrich/lru.js";

describe("Lru", () => {
  it("evicts the least recently used entry when full", () => {
    const cache = new Lru<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1);
    cache.set("c", 3);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
    expect(cache.size).toBe(2);
  });

  it("never grows past its capacity", () => {
    const cache = new Lru<number, number>(100);
    for (let i = 0; i < 10_000; i++) cache.set(i, i);
    expect(cache.size).toBe(100);
    expect(cache.get(9_999)).toBe(9_999);
    expect(cache.get(9_899)).toBeUndefined();
  });

  it("updates a key in place without counting it twice", () => {
    const cache = new Lru<string, number>(2);
    cache.set("a", 1);
    cache.set("a", 2);
    cache.set("b", 3);
    expect(cache.size).toBe(2);
    expect(cache.get("a")).toBe(2);
  });

  it("stores nothing with capacity zero and refuses a bad capacity", () => {
    const cache = new Lru<string, number>(0);
    cache.set("a", 1);
    expect(cache.get("a")).toBeUndefined();
    expect(() => new Lru(-1)).toThrow(RangeError);
    expect(() => new Lru(1.5)).toThrow(RangeError);
  });

  it("behaves like a reference LRU over a long random run", () => {
    const capacity = 7;
    const cache = new Lru<number, number>(capacity);
    // Reference model: an array ordered from least to most recently used.
    let model: Array<[number, number]> = [];
    let seed = 42;
    const next = (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed;
    };
    for (let step = 0; step < 5_000; step++) {
      const key = next() % 12;
      if (next() % 3 === 0) {
        const hit = model.find(([k]) => k === key);
        if (hit) model = [...model.filter(([k]) => k !== key), hit];
        expect(cache.get(key), `step ${step}`).toBe(hit?.[1]);
      } else {
        const value = step;
        model = [...model.filter(([k]) => k !== key), [key, value]];
        if (model.length > capacity) model.shift();
        cache.set(key, value);
      }
      expect(cache.size).toBe(model.length);
    }
    for (const [k, v] of model) expect(cache.get(k)).toBe(v);
  });

  it("keeps working after clear", () => {
    const cache = new Lru<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get("a")).toBeUndefined();
    cache.set("c", 3);
    cache.set("d", 4);
    cache.set("e", 5);
    expect(cache.get("c")).toBeUndefined();
    expect(cache.get("e")).toBe(5);
  });
});
