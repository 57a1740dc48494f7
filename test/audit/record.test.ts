/** Canonical JSON, masking and hashing: the pieces a record's hash depends on. */

import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/audit/canonical-json.js";
import { chainRecord, EMPTY_HEAD, GENESIS_HASH, hashRecord } from "../../src/audit/chain.js";
import { maskRequest, maskValue } from "../../src/audit/mask.js";
import { decisionRecord, entryOfRecord } from "../../src/audit/record.js";
import { makeEntry } from "./fixtures.js";

describe("canonical JSON", () => {
  it("sorts keys at every level and survives a JSON round trip", () => {
    const value = { b: 1, a: [2, { d: 3.5, c: "x" }], e: { z: null, y: true } };
    expect(canonicalJson(value)).toBe('{"a":[2,{"c":"x","d":3.5}],"b":1,"e":{"y":true,"z":null}}');
    expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(canonicalJson(value));
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });
});

describe("masking", () => {
  it("replaces a value by a keyed hash prefix that correlates equal values", () => {
    const a = maskValue("k1", "203.0.113.7");
    expect(a).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(maskValue("k1", "203.0.113.7")).toBe(a);
    expect(maskValue("k2", "203.0.113.7")).not.toBe(a);
    expect(maskValue("k1", "203.0.113.8")).not.toBe(a);
  });

  it("masks dotted paths, whole objects included, and leaves the input alone", () => {
    const request = { subject: { type: "user", id: "alice" }, context: { ip: "1.2.3.4", token: { jti: "t" } } };
    const masked = maskRequest(request, ["context.ip", "context.token", "context.missing.deep"], "k");
    expect(masked.context).toEqual({ ip: maskValue("k", "1.2.3.4"), token: maskValue("k", { jti: "t" }) });
    expect(request.context.ip).toBe("1.2.3.4");
  });
});

describe("record hash", () => {
  it("covers every field but the hash itself, including prev_hash", () => {
    const unchained = decisionRecord(makeEntry({ n: 1 }), { mask: (r) => r });
    const first = chainRecord(unchained, "w", EMPTY_HEAD);
    expect(first.prev_hash).toBe(GENESIS_HASH);
    expect(first.seq).toBe(1);
    expect(hashRecord(first)).toBe(first.hash);
    expect(hashRecord({ ...first, score: 99 } as typeof first)).not.toBe(first.hash);
    const second = chainRecord(unchained, "w", { seq: 1, hash: first.hash });
    expect(second.hash).not.toBe(first.hash);
    expect(second.prev_hash).toBe(first.hash);
  });

  it("rebuilds the engine's entry from a decision record", () => {
    const entry = makeEntry({ n: 4, path: "step_up", shadow: true });
    const record = chainRecord(decisionRecord(entry, { mask: (r) => r }), "w", EMPTY_HEAD);
    if (record.kind !== "decision") throw new Error("expected a decision record");
    expect(entryOfRecord(record)).toEqual(entry);
    expect(record.contributions).toEqual([{ detector: "new_device", code: "new_device", contribution: 30.5 }]);
  });
});
