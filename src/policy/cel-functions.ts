/** Signalbox's own CEL functions (`cidr_contains`, `glob`), shared by every condition. */

import { BlockList, isIP } from "node:net";

const cidrCache = new Map<string, BlockList>();
const globCache = new Map<string, RegExp>();
// Bounded so policies with generated patterns cannot grow the caches without limit.
const CACHE_LIMIT = 1024;

function cached<V>(cache: Map<string, V>, key: string, make: () => V): V {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const made = make();
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, made);
  return made;
}

/** Parses `10.0.0.0/8` or `2001:db8::/32` into a block list; throws on anything else. */
function subnetOf(cidr: string): BlockList {
  return cached(cidrCache, cidr, () => {
    const slash = cidr.indexOf("/");
    const address = slash < 0 ? cidr : cidr.slice(0, slash);
    const family = isIP(address);
    if (family === 0) throw new Error(`"${cidr}" is not a cidr block`);
    const max = family === 4 ? 32 : 128;
    const prefix = slash < 0 ? max : Number(cidr.slice(slash + 1));
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max)
      throw new Error(`"${cidr}" has an invalid prefix length`);
    const list = new BlockList();
    list.addSubnet(address, prefix, family === 4 ? "ipv4" : "ipv6");
    return list;
  });
}

/** Whether `ip` lies in `cidr`. An address of the other family is simply not contained. */
export function cidrContains(cidr: string, ip: string): boolean {
  const list = subnetOf(cidr);
  const family = isIP(ip);
  if (family === 0) throw new Error(`"${ip}" is not an ip address`);
  return list.check(ip, family === 4 ? "ipv4" : "ipv6");
}

/** Turns a glob into an anchored regular expression: `*` stays inside one `/` segment, `**` crosses them. */
function globRegExp(pattern: string): RegExp {
  return cached(globCache, pattern, () => {
    let out = "^";
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern.charAt(i);
      if (ch === "*") {
        if (pattern.charAt(i + 1) === "*") {
          out += ".*";
          i++;
        } else {
          out += "[^/]*";
        }
      } else if (ch === "?") {
        out += "[^/]";
      } else {
        out += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
      }
    }
    return new RegExp(`${out}$`, "s");
  });
}

/** Whether `value` matches the glob `pattern` (`*`, `**`, `?`). */
export function globMatch(value: string, pattern: string): boolean {
  return globRegExp(pattern).test(value);
}

/** Documentation of the custom functions, used by the docs test and `policy` help. */
export const CEL_FUNCTIONS = [
  {
    signature: "cidr_contains(string, string): bool",
    summary:
      "whether the ip address (second) lies in the cidr block (first); malformed input makes the condition false",
  },
  {
    signature: "glob(string, string): bool",
    summary:
      "whether the value (first) matches the glob (second): `*` within a `/` segment, `**` across, `?` one character",
  },
] as const;
