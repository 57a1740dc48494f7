/** A compiled set of IPv4 and IPv6 CIDR blocks that answers "is this address inside?" by binary search. */

import { SignalboxError } from "../errors/signalbox-error.js";
import { type IpAddress, ipv4Mask, ipv6WithHostBits, parseIp, parseIpv4, parseIpv6Words } from "./ip-address.js";
import { Ipv4Ranges, Ipv6Ranges, wordsToBigInt, writeBigIntWords } from "./ip-ranges.js";

/** One block as an inclusive range: numbers for IPv4, 128-bit BigInts for IPv6. */
export type CidrRange =
  | { readonly version: 4; readonly start: number; readonly end: number }
  | { readonly version: 6; readonly start: bigint; readonly end: bigint };

const PREFIX_LENGTH = /^(?:0|[1-9][0-9]{0,2})$/;
const V4_MAPPED_START = 0xffff_0000_0000n;
const V4_MAPPED_END = 0xffff_ffff_ffffn;

/**
 * Parses `a.b.c.d/n`, `x:y::z/n` or a bare address (a /32 or /128). Host bits after the prefix are
 * ignored, as lists in the wild often write `10.1.2.3/8`. `undefined` when the text is not a block.
 */
export function parseCidr(text: string): CidrRange | undefined {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const lengthText = slash < 0 ? undefined : text.slice(slash + 1);
  if (lengthText !== undefined && !PREFIX_LENGTH.test(lengthText)) return undefined;
  if (!address.includes(":")) {
    const value = parseIpv4(address);
    const length = lengthText === undefined ? 32 : Number(lengthText);
    if (value === undefined || length > 32) return undefined;
    const mask = ipv4Mask(length);
    return { version: 4, start: (value & mask) >>> 0, end: (value | ~mask) >>> 0 };
  }
  const words = address.length <= 45 ? parseIpv6Words(address) : undefined;
  const length = lengthText === undefined ? 128 : Number(lengthText);
  if (!words || length > 128) return undefined;
  return {
    version: 6,
    start: wordsToBigInt(ipv6WithHostBits(words, length, 0)),
    end: wordsToBigInt(ipv6WithHostBits(words, length, 1)),
  };
}

/** Sorts and merges overlapping or adjacent ranges; BigInt keeps one code path for both families at build time. */
function mergeSorted(ranges: Array<[bigint, bigint]>): Array<[bigint, bigint]> {
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const merged: Array<[bigint, bigint]> = [];
  for (const [start, end] of ranges) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1] + 1n) {
      if (end > last[1]) last[1] = end;
    } else {
      merged.push([start, end]);
    }
  }
  return merged;
}

/** An immutable set of blocks; build one per list version and swap it whole on reload. */
export class CidrMatcher {
  private constructor(
    private readonly v4: Ipv4Ranges,
    private readonly v6: Ipv6Ranges,
    /** How many blocks went in, before merging. */
    readonly blockCount: number,
  ) {}

  /** Compiles blocks; overlapping and adjacent blocks merge, so lookups stay one binary search. */
  static fromRanges(ranges: Iterable<CidrRange>): CidrMatcher {
    const v4: Array<[bigint, bigint]> = [];
    const v6: Array<[bigint, bigint]> = [];
    let count = 0;
    for (const r of ranges) {
      count++;
      if (r.version === 4) {
        v4.push([BigInt(r.start), BigInt(r.end)]);
        continue;
      }
      v6.push([r.start, r.end]);
      // Addresses parse IPv4-mapped forms as IPv4, so an IPv6 block over ::ffff:0:0/96 must cover them there.
      const start = r.start > V4_MAPPED_START ? r.start : V4_MAPPED_START;
      const end = r.end < V4_MAPPED_END ? r.end : V4_MAPPED_END;
      if (start <= end) v4.push([start - V4_MAPPED_START, end - V4_MAPPED_START]);
    }
    const m4 = mergeSorted(v4);
    const m6 = mergeSorted(v6);
    const starts4 = new Uint32Array(m4.length);
    const ends4 = new Uint32Array(m4.length);
    m4.forEach(([s, e], i) => {
      starts4[i] = Number(s);
      ends4[i] = Number(e);
    });
    const starts6 = new Uint32Array(4 * m6.length);
    const ends6 = new Uint32Array(4 * m6.length);
    m6.forEach(([s, e], i) => {
      writeBigIntWords(starts6, i, s);
      writeBigIntWords(ends6, i, e);
    });
    return new CidrMatcher(new Ipv4Ranges(starts4, ends4), new Ipv6Ranges(starts6, ends6), count);
  }

  /**
   * Compiles blocks written as text; throws `CONFIG_INVALID` naming every bad entry, for callers
   * that build a list in code. Files go through `readCidrFile`, which skips bad lines instead.
   * @example CidrMatcher.of(["10.0.0.0/8", "2001:db8::/32"]).containsText("10.1.2.3") // true
   */
  static of(cidrs: Iterable<string>): CidrMatcher {
    const ranges: CidrRange[] = [];
    const bad: string[] = [];
    for (const text of cidrs) {
      const range = parseCidr(text.trim());
      if (range) ranges.push(range);
      else bad.push(text);
    }
    if (bad.length > 0) {
      throw new SignalboxError("CONFIG_INVALID", `invalid CIDR block ${bad.map((b) => `"${b}"`).join(", ")}`, {
        problems: bad.map((b) => ({ message: `invalid CIDR block "${b}"` })),
      });
    }
    return CidrMatcher.fromRanges(ranges);
  }

  static readonly EMPTY: CidrMatcher = CidrMatcher.fromRanges([]);

  /** The number of disjoint ranges after merging. */
  get rangeCount(): number {
    return this.v4.size + this.v6.size;
  }

  contains(ip: IpAddress): boolean {
    return ip.version === 4 ? this.v4.indexOf(ip.value) >= 0 : this.v6.indexOf(ip.words) >= 0;
  }

  /** `false` for text that is not a valid address. */
  containsText(text: string): boolean {
    const ip = parseIp(text);
    return ip !== undefined && this.contains(ip);
  }
}
