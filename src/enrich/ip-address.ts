/** Parses, normalises and formats IPv4 and IPv6 addresses as numbers, without throwing. */

/**
 * A parsed address. IPv4 is one unsigned 32-bit number; IPv6 is four unsigned 32-bit words, most
 * significant first, so both can be compared and binary-searched without BigInt on the hot path.
 * An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) parses as the IPv4 address it carries: it is the
 * same client, and every list and database must treat it as such.
 */
export type IpAddress =
  | { readonly version: 4; readonly value: number }
  | { readonly version: 6; readonly words: Uint32Array };

/** The longest valid textual address (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`). */
const MAX_TEXT_LENGTH = 45;

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parses dotted-quad IPv4 in one pass over the characters (it runs 800k times while the ASN table
 * loads). Leading zeros are refused because some stacks read them as octal.
 */
export function parseIpv4(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined;
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : undefined;
}

function parseGroups(text: string, allowIpv4Tail: boolean): number[] | undefined {
  if (text === "") return [];
  const groups: number[] = [];
  const parts = text.split(":");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? "";
    if (allowIpv4Tail && i === parts.length - 1 && part.includes(".")) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      groups.push(v4 >>> 16, v4 & 0xffff);
    } else if (HEX_GROUP.test(part)) {
      groups.push(Number.parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** Parses IPv6 text (with `::` and an embedded IPv4 tail) into four words; zone ids are refused. */
export function parseIpv6Words(text: string): Uint32Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? "", halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "", true) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const words = new Uint32Array(4);
  for (let w = 0; w < 4; w++) {
    words[w] = (((groups[2 * w] ?? 0) << 16) | (groups[2 * w + 1] ?? 0)) >>> 0;
  }
  return words;
}

/** Whether four words are an IPv4-mapped address, `::ffff:0:0/96`. */
export function isV4Mapped(words: Uint32Array): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

/** Parses any textual address; `undefined` for anything that is not exactly one valid address. */
export function parseIp(text: string): IpAddress | undefined {
  if (text.length === 0 || text.length > MAX_TEXT_LENGTH) return undefined;
  if (!text.includes(":")) {
    const value = parseIpv4(text);
    return value === undefined ? undefined : { version: 4, value };
  }
  const words = parseIpv6Words(text);
  if (!words) return undefined;
  if (isV4Mapped(words)) return { version: 4, value: words[3] ?? 0 };
  return { version: 6, words };
}

export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** Formats IPv6 words the RFC 5952 way: lowercase, the longest run of two or more zero groups as `::`. */
export function formatIpv6(words: Uint32Array): string {
  const groups: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = words[w] ?? 0;
    groups.push(word >>> 16, word & 0xffff);
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}

export function formatIp(ip: IpAddress): string {
  return ip.version === 4 ? formatIpv4(ip.value) : formatIpv6(ip.words);
}

/** The IPv4 mask of a prefix length, as an unsigned number (`/0` is the empty mask). */
export function ipv4Mask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** The words of an IPv6 address with every bit after `prefixLength` set to `fill` (0 or 1). */
export function ipv6WithHostBits(words: Uint32Array, prefixLength: number, fill: 0 | 1): Uint32Array {
  const out = new Uint32Array(4);
  for (let w = 0; w < 4; w++) {
    const keep = Math.max(0, Math.min(32, prefixLength - 32 * w));
    const mask = ipv4Mask(keep);
    const word = words[w] ?? 0;
    out[w] = fill === 0 ? (word & mask) >>> 0 : (word | ~mask) >>> 0;
  }
  return out;
}

/**
 * The network an address belongs to for "known network" learning: the /24 for IPv4 and the /48 for
 * IPv6, the usual size of one customer's allocation, so a user's neighbouring addresses count as one.
 */
export function networkPrefix(ip: IpAddress): string {
  if (ip.version === 4) return `${formatIpv4((ip.value & ipv4Mask(24)) >>> 0)}/24`;
  return `${formatIpv6(ipv6WithHostBits(ip.words, 48, 0))}/48`;
}
