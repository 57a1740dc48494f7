/** The CIDR matcher: boundaries, /0, host routes, IPv6 and IPv4-mapped forms. */

import { describe, expect, it } from "vitest";
import { CidrMatcher, parseCidr } from "../../src/enrich/cidr.js";
import { SignalboxError } from "../../src/errors/signalbox-error.js";

describe("parseCidr", () => {
  it("reads blocks, bare addresses and ignores host bits", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ version: 4, start: 0x0a000000, end: 0x0affffff });
    expect(parseCidr("10.1.2.3/8")).toEqual({ version: 4, start: 0x0a000000, end: 0x0affffff });
    expect(parseCidr("192.0.2.1")).toEqual({ version: 4, start: 0xc0000201, end: 0xc0000201 });
    expect(parseCidr("2001:db8::/32")).toEqual({
      version: 6,
      start: 0x20010db8n << 96n,
      end: (0x20010db8n << 96n) | ((1n << 96n) - 1n),
    });
  });

  it("refuses bad prefix lengths and addresses", () => {
    for (const bad of ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/08", "::/129", "10.0.0/8", "x/8", ""]) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });
});

describe("CidrMatcher", () => {
  it("matches /0 for every IPv4 address and no IPv6 address", () => {
    const all4 = CidrMatcher.of(["0.0.0.0/0"]);
    expect(all4.containsText("0.0.0.0")).toBe(true);
    expect(all4.containsText("255.255.255.255")).toBe(true);
    expect(all4.containsText("2001:db8::1")).toBe(false);
  });

  it("matches ::/0 for every IPv6 address, including IPv4-mapped ones", () => {
    const all6 = CidrMatcher.of(["::/0"]);
    expect(all6.containsText("::")).toBe(true);
    expect(all6.containsText("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")).toBe(true);
    expect(all6.containsText("::ffff:1.2.3.4")).toBe(true);
    expect(all6.containsText("1.2.3.4")).toBe(true);
  });

  it("matches a /32 and a /128 exactly, not their neighbours", () => {
    const m = CidrMatcher.of(["192.0.2.10/32", "2001:db8::10/128"]);
    expect(m.containsText("192.0.2.10")).toBe(true);
    expect(m.containsText("192.0.2.9")).toBe(false);
    expect(m.containsText("192.0.2.11")).toBe(false);
    expect(m.containsText("2001:db8::10")).toBe(true);
    expect(m.containsText("2001:db8::f")).toBe(false);
    expect(m.containsText("2001:db8::11")).toBe(false);
  });

  it("includes both ends of a block and nothing past them", () => {
    const m = CidrMatcher.of(["198.51.100.0/24", "2001:db8:1::/48"]);
    expect(m.containsText("198.51.100.0")).toBe(true);
    expect(m.containsText("198.51.100.255")).toBe(true);
    expect(m.containsText("198.51.99.255")).toBe(false);
    expect(m.containsText("198.51.101.0")).toBe(false);
    expect(m.containsText("2001:db8:1:ffff:ffff:ffff:ffff:ffff")).toBe(true);
    expect(m.containsText("2001:db8:2::")).toBe(false);
    expect(m.containsText("2001:db8:0:ffff:ffff:ffff:ffff:ffff")).toBe(false);
  });

  it("matches an IPv4-mapped query against IPv4 blocks and a mapped block against IPv4 queries", () => {
    const v4 = CidrMatcher.of(["10.0.0.0/8"]);
    expect(v4.containsText("::ffff:10.20.30.40")).toBe(true);
    expect(v4.containsText("::ffff:11.0.0.1")).toBe(false);
    const mapped = CidrMatcher.of(["::ffff:192.0.2.0/120"]);
    expect(mapped.containsText("192.0.2.200")).toBe(true);
    expect(mapped.containsText("192.0.3.1")).toBe(false);
  });

  it("merges overlapping and adjacent blocks without changing membership", () => {
    const m = CidrMatcher.of(["10.0.0.0/24", "10.0.1.0/24", "10.0.0.128/25", "10.0.3.0/24"]);
    expect(m.blockCount).toBe(4);
    expect(m.rangeCount).toBe(2);
    expect(m.containsText("10.0.1.255")).toBe(true);
    expect(m.containsText("10.0.2.0")).toBe(false);
    expect(m.containsText("10.0.3.9")).toBe(true);
  });

  it("handles the extremes of both families", () => {
    const m = CidrMatcher.of(["255.255.255.255", "0.0.0.0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"]);
    expect(m.containsText("255.255.255.255")).toBe(true);
    expect(m.containsText("0.0.0.0")).toBe(true);
    expect(m.containsText("0.0.0.1")).toBe(false);
    expect(m.containsText("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")).toBe(true);
    expect(m.containsText("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe")).toBe(false);
  });

  it("answers false for text that is not an address and for an empty matcher", () => {
    expect(CidrMatcher.of(["0.0.0.0/0"]).containsText("not an ip")).toBe(false);
    expect(CidrMatcher.EMPTY.containsText("1.2.3.4")).toBe(false);
  });

  it("names every bad block when built from code", () => {
    try {
      CidrMatcher.of(["10.0.0.0/8", "10.0.0.0/40", "nope"]);
      expect.unreachable("a bad block must throw");
    } catch (err) {
      expect(err).toBeInstanceOf(SignalboxError);
      expect((err as SignalboxError).code).toBe("CONFIG_INVALID");
      expect((err as SignalboxError).problems).toHaveLength(2);
      expect((err as SignalboxError).message).toContain('"nope"');
    }
  });

  it("agrees with a brute-force check on random blocks and addresses", () => {
    let seed = 12345;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed;
    };
    const blocks: Array<[number, number]> = [];
    const texts: string[] = [];
    for (let i = 0; i < 200; i++) {
      const length = 8 + (next() % 25);
      const base = next();
      const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
      const start = (base & mask) >>> 0;
      blocks.push([start, (start | ~mask) >>> 0]);
      texts.push(`${base >>> 24}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/${length}`);
    }
    const m = CidrMatcher.of(texts);
    for (let i = 0; i < 2000; i++) {
      const [s] = blocks[i % blocks.length] ?? [0];
      // Half the probes land near a block start so both answers occur often.
      const q = i % 2 === 0 ? (s + (next() % 512) - 256) >>> 0 : next();
      const expected = blocks.some(([a, b]) => q >= a && q <= b);
      const text = `${q >>> 24}.${(q >>> 16) & 255}.${(q >>> 8) & 255}.${q & 255}`;
      expect(m.containsText(text), text).toBe(expected);
    }
  });
});
