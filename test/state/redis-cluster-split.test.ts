/** Splitting script calls by Redis Cluster hash slot: the slot function, and calls split and merged back losslessly. */

import { describe, expect, it } from "vitest";
import { keySlot } from "../../src/state/redis-cluster-slot.js";
import { slotMoved, splitRead, splitWrite } from "../../src/state/redis-cluster-split.js";
import type { ScriptRead } from "../../src/state/redis-read-batch.js";
import { OP_LENGTH } from "../../src/state/redis-scripts.js";

describe("keySlot", () => {
  it("is CRC16 (XMODEM) modulo 16384, as the Redis Cluster specification gives it", () => {
    expect(keySlot("123456789")).toBe(12739); // the CRC's check value, 0x31C3
    expect(keySlot("foo")).toBe(12182);
    expect(keySlot("")).toBe(0);
  });

  it("hashes only the hash tag: the text between the first { and the next }, when not empty", () => {
    expect(keySlot("{user1000}.following")).toBe(keySlot("user1000"));
    expect(keySlot("sb:{u:alice}:p")).toBe(keySlot("sb:{u:alice}:c"));
    expect(keySlot("x{é}y")).toBe(keySlot("é"));
    // An empty tag, or none closed, means the whole key.
    expect(keySlot("a{}b{c}")).not.toBe(keySlot("c"));
    expect(keySlot("{a")).not.toBe(keySlot("a"));
  });
});

/** Three keys on three different slots (checked), each with a second key sharing its tag. */
const TAGS = ["u:alice", "u:bob", "ip:10.0.0.1"];
const key = (tag: string, kind: string) => `sb:{${tag}}:${kind}`;

describe("splitRead", () => {
  const read: ScriptRead = {
    counters: [
      { key: key("u:alice", "c"), oldest: 1, newest: 2, distinct: false },
      { key: key("ip:10.0.0.1", "c"), oldest: 3, newest: 4, distinct: true },
      { key: key("u:bob", "c"), oldest: 5, newest: 6, distinct: false },
    ],
    claims: [
      { key: key("u:bob", "k"), holder: "h1", expiresAt: 9, ttlMs: 9, now: 1 },
      { key: key("u:bob", "k"), holder: "h2", expiresAt: 9, ttlMs: 9, now: 1 },
    ],
    profiles: [
      { key: key("u:alice", "p"), version: 7 },
      { key: key("ip:10.0.0.1", "p"), version: 8 },
    ],
  };

  it("makes one call per slot, keeping each part's items in their order (claims of one key too)", () => {
    expect(new Set(TAGS.map(keySlot)).size).toBe(3);
    const split = splitRead(read);
    expect(split.calls).toHaveLength(3);
    for (const call of split.calls) {
      const keys = [...call.counters, ...call.claims, ...call.profiles].map((x) => keySlot(x.key));
      expect(new Set(keys).size).toBe(1);
    }
    const bob = split.calls.find((c) => c.claims.length > 0);
    expect(bob?.claims.map((c) => c.holder)).toEqual(["h1", "h2"]);
  });

  it("merges the parts' replies into the order one call gives: counters, then claims, then profiles", () => {
    const split = splitRead(read);
    // Each part answers with its items' keys (and holders), in the part's reply order.
    const replies = split.calls.map((c) => [
      ...c.counters.map((x) => x.key),
      ...c.claims.map((x) => `${x.key}#${x.holder}`),
      ...c.profiles.map((x) => x.key),
    ]);
    expect(split.merge(replies)).toEqual([
      ...read.counters.map((x) => x.key),
      ...read.claims.map((x) => `${x.key}#${x.holder}`),
      ...read.profiles.map((x) => x.key),
    ]);
  });
});

/** The write ops of a call as `[op, key, ...rest]`, key indexes resolved. */
function decode(keys: readonly string[], ops: readonly (string | number)[]): (string | number)[][] {
  const out: (string | number)[][] = [];
  for (let i = 0; i < ops.length; ) {
    const n = OP_LENGTH[String(ops[i])] as number;
    out.push([ops[i] as string, keys[(ops[i + 1] as number) - 1] as string, ...ops.slice(i + 2, i + n)]);
    i += n;
  }
  return out;
}

describe("splitWrite", () => {
  const keys = [
    key("u:alice", "p"),
    key("u:bob", "p"),
    key("u:alice", "c"),
    key("ip:10.0.0.1", "p"),
    key("u:bob", "d"),
  ];
  const ops: (string | number)[] = [
    ...["s", 1, "device", "d1", 100, 50],
    ...["s", 2, "device", "d2", 100, 50],
    ...["i", 3, 60000, 1, 2, 1],
    ...["v", 4, "asn", '"AS1"'],
    ...["s", 1, "ip", "10.0.0.1", 100, 50],
    ...["d", 5, '{"e":1}', 1000],
    ...["v", 2, "country", '"NO"'],
  ];

  it("makes one call per slot whose ops are the original ops on that slot's keys, in order", () => {
    const split = splitWrite(keys, ops);
    expect(split.calls).toHaveLength(3);
    const original = decode(keys, ops);
    const fromParts = split.calls.flatMap((c) => decode(c.keys, c.ops));
    expect(fromParts).toHaveLength(original.length);
    for (const call of split.calls) {
      expect(new Set(call.keys.map(keySlot)).size).toBe(1);
      const slot = keySlot(call.keys[0] as string);
      expect(decode(call.keys, call.ops)).toEqual(original.filter((op) => keySlot(op[1] as string) === slot));
    }
  });

  it("merges the versions ({before, after, evicted} per profile) in the order the whole call first touched profiles", () => {
    const split = splitWrite(keys, ops);
    // Each part answers per profile it first touched, in its order: [key, key, key] stands for one triple.
    const replies = split.calls.map((c) => {
      const out: string[] = [];
      for (const [op, k] of decode(c.keys, c.ops)) {
        if ((op === "s" || op === "v") && !out.includes(k as string)) out.push(k as string, k as string, k as string);
      }
      return out;
    });
    expect(split.merge(replies)).toEqual([
      ...Array(3).fill(key("u:alice", "p")),
      ...Array(3).fill(key("u:bob", "p")),
      ...Array(3).fill(key("ip:10.0.0.1", "p")),
    ]);
  });

  it("keeps first-touch order across parts when one part's profiles come before and after another's", () => {
    // Two profiles of one slot (one tag), touched first, then one of another slot, then the second.
    const k = [key("u:alice", "p"), key("u:bob", "p"), `${key("u:alice", "p")}2`];
    const interleaved: (string | number)[] = [...["v", 1, "a", "1"], ...["v", 2, "a", "1"], ...["v", 3, "a", "1"]];
    const split = splitWrite(k, interleaved);
    expect(split.calls).toHaveLength(2);
    const replies = split.calls.map((c) => c.keys.flatMap((x) => [x, x, x]));
    expect(split.merge(replies)).toEqual(k.flatMap((x) => [x, x, x]));
  });

  it("refuses an op it does not know, rather than cut the call wrongly", () => {
    expect(() => splitWrite(keys, ["x", 1])).toThrow("unknown op 'x'");
  });
});

describe("slotMoved", () => {
  it("recognises the errors of a part whose node no longer serves one of its keys' slots, also as a cause", () => {
    const script = new Error(
      "ERR Script attempted to access a non local key in a cluster node script: 3867cf6e, on @user_script:55.",
    );
    expect(slotMoved(script)).toBe(true);
    expect(slotMoved(new Error("MOVED 2731 127.0.0.1:40535"))).toBe(true);
    expect(slotMoved(new Error("ASK 2731 127.0.0.1:40535"))).toBe(true);
    expect(slotMoved(new Error("TRYAGAIN Multiple keys request during rehashing of slot"))).toBe(true);
    expect(slotMoved(new Error("Too many Cluster redirections. Last error: MOVED 1 127.0.0.1:1"))).toBe(true);
    expect(slotMoved(new Error("redis call failed: see cause", { cause: script }))).toBe(true);
  });

  it("leaves every other failure alone: those may have run in part, or will not be cured by sending again", () => {
    expect(slotMoved(new Error("redis script call timed out after 300 ms"))).toBe(false);
    expect(slotMoved(new Error("CLUSTERDOWN The cluster is down"))).toBe(false);
    expect(slotMoved(new Error("ERR Error running script: user_script:12: attempt to compare nil with number"))).toBe(
      false,
    );
    expect(slotMoved(new Error("Connection is closed."))).toBe(false);
    expect(slotMoved("MOVED 2731 127.0.0.1:40535")).toBe(false);
    expect(slotMoved(undefined)).toBe(false);
  });
});
