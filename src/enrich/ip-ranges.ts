/** Sorted, non-overlapping address ranges in typed arrays, searched by binary search. */

/**
 * IPv4 ranges, inclusive at both ends. `starts` must be ascending and the ranges disjoint; the
 * position a lookup returns indexes whatever payload the owner keeps beside the table.
 */
export class Ipv4Ranges {
  constructor(
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
  ) {}

  get size(): number {
    return this.starts.length;
  }

  /** The position of the range holding `value`, or -1. */
  indexOf(value: number): number {
    const { starts, ends } = this;
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((starts[mid] ?? 0) <= value) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found >= 0 && value <= (ends[found] ?? -1) ? found : -1;
  }
}

/** Compares the four-word address at `table[4 * i]` with `words`: negative, zero or positive. */
export function compareWordsAt(table: Uint32Array, i: number, words: Uint32Array): number {
  const base = 4 * i;
  for (let w = 0; w < 4; w++) {
    const a = table[base + w] ?? 0;
    const b = words[w] ?? 0;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

/** IPv6 ranges as four words per bound, inclusive at both ends, with the same rules as `Ipv4Ranges`. */
export class Ipv6Ranges {
  constructor(
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
  ) {}

  get size(): number {
    return this.starts.length / 4;
  }

  /** The position of the range holding `words`, or -1. */
  indexOf(words: Uint32Array): number {
    let lo = 0;
    let hi = this.size - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareWordsAt(this.starts, mid, words) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found >= 0 && compareWordsAt(this.ends, found, words) >= 0 ? found : -1;
  }
}

/** Four words as one 128-bit BigInt; used only while building tables, never per lookup. */
export function wordsToBigInt(words: Uint32Array): bigint {
  let out = 0n;
  for (let w = 0; w < 4; w++) out = (out << 32n) | BigInt(words[w] ?? 0);
  return out;
}

/** Writes a 128-bit BigInt as four words into `table` at range position `i`. */
export function writeBigIntWords(table: Uint32Array, i: number, value: bigint): void {
  for (let w = 3; w >= 0; w--) {
    table[4 * i + w] = Number(value & 0xffffffffn);
    value >>= 32n;
  }
}
