/** The source address and network prefix of a request, from enrichment or, failing that, the raw context. */

import { formatIp, networkPrefix, parseIp } from "../enrich/ip-address.js";
import type { DetectorContext } from "./detector.js";

/** The request's source address: the enricher's normalised one first, then `context.ip` if it parses. */
export function sourceAddress(ctx: DetectorContext): string | undefined {
  if (ctx.enrichment.ip) return ctx.enrichment.ip;
  const raw = ctx.request.context?.ip;
  const parsed = typeof raw === "string" ? parseIp(raw) : undefined;
  return parsed ? formatIp(parsed) : undefined;
}

/** The /24 (IPv4) or /48 (IPv6) of the source, e.g. `203.0.113.0/24`, spelled exactly as enrichment spells it. */
export function sourcePrefix(ctx: DetectorContext): string | undefined {
  const fromEnrichment = ctx.enrichment.network?.prefix;
  if (fromEnrichment) return fromEnrichment;
  const ip = sourceAddress(ctx);
  return ip === undefined ? undefined : prefixOf(ip);
}

/** The /24 or /48 of an address; undefined for anything that is not exactly one IP address. */
export function prefixOf(ip: string): string | undefined {
  const parsed = parseIp(ip);
  return parsed ? networkPrefix(parsed) : undefined;
}
