/**
 * Benchmarks enrichment: loading the databases (time and memory), cold lookups (every address or
 * user agent new) and cached ones, and the CIDR matcher on its own.
 * Run alone with `npx tsx bench/enrich.ts`.
 */

import { pathToFileURL } from "node:url";
import { CidrMatcher } from "../src/enrich/cidr.js";
import { createDatabaseEnricher, type DatabaseEnricher } from "../src/enrich/database-enricher.js";
import { parseUserAgent } from "../src/enrich/user-agent.js";
import type { AccessRequest } from "../src/model/request.js";
import type { BenchResult } from "./result.js";

/** A fixed-seed generator, so every run probes the same addresses. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

function ipv4(n: number): string {
  // Keep the first octet in 1–223 so most probes hit allocated unicast space.
  return `${1 + ((n >>> 24) % 223)}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function ipv6(next: () => number): string {
  const hex = (): string => (next() & 0xffff).toString(16);
  return `2${(next() & 0xfff).toString(16).padStart(3, "0")}:${hex()}:${hex()}:${hex()}::${hex()}`;
}

function requestFor(context: AccessRequest["context"]): AccessRequest {
  return { subject: { type: "user", id: "u" }, action: { name: "login" }, resource: { type: "app", id: "a" }, context };
}

/** Times `op` once per input; latencies include a `hrtime` call (~0.05 µs), negligible above 1 µs. */
function measure<T>(name: string, inputs: readonly T[], op: (input: T) => unknown, note?: string): BenchResult {
  const latencies = new Float64Array(inputs.length);
  const started = process.hrtime.bigint();
  for (let i = 0; i < inputs.length; i++) {
    const t = process.hrtime.bigint();
    op(inputs[i] as T);
    latencies[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort();
  const pct = (p: number): number =>
    Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 100) / 100;
  const result: BenchResult = {
    name,
    opsPerSec: Math.round(inputs.length / seconds),
    p50Us: pct(0.5),
    p99Us: pct(0.99),
  };
  if (note) result.note = note;
  return result;
}

function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1e5) / 10;
}

async function load(): Promise<{ enricher: DatabaseEnricher; result: BenchResult }> {
  globalThis.gc?.();
  const before = rssMb();
  const started = performance.now();
  const enricher = await createDatabaseEnricher({ cacheSize: 50_000 });
  const ms = Math.round(performance.now() - started);
  globalThis.gc?.();
  const after = rssMb();
  const asn = enricher.stats.asn;
  return {
    enricher,
    result: {
      name: "enrich/load city + ASN databases",
      opsPerSec: 0,
      p50Us: ms * 1000,
      p99Us: ms * 1000,
      note:
        `${ms} ms; RSS ${before} MB -> ${after} MB (+${Math.round(after - before)} MB); ` +
        `${asn?.ipv4Ranges} IPv4 + ${asn?.ipv6Ranges} IPv6 ASN ranges, ${asn?.organisations} organisations`,
    },
  };
}

export async function benchEnrich(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const { enricher, result } = await load();
  results.push(result);
  const next = generator(20261123);

  const cold4 = Array.from({ length: 40_000 }, () => requestFor({ ip: ipv4(next()) }));
  results.push(
    measure("enrich/ipv4 cold", cold4, (r) => enricher.enrich(r), "every address new: parse, city, ASN, lists"),
  );
  const cold6 = Array.from({ length: 40_000 }, () => requestFor({ ip: ipv6(next) }));
  results.push(measure("enrich/ipv6 cold", cold6, (r) => enricher.enrich(r), "every address new"));

  const hot = Array.from({ length: 1_000 }, () => requestFor({ ip: ipv4(next()) }));
  for (const r of hot) enricher.enrich(r);
  const hotRuns = Array.from({ length: 200_000 }, (_, i) => hot[i % hot.length] as AccessRequest);
  results.push(measure("enrich/ip cached", hotRuns, (r) => enricher.enrich(r), "1,000 addresses, all in the LRU"));

  const chrome = (v: number): string =>
    `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.${v % 97}.0 Safari/537.36`;
  const coldUa = Array.from({ length: 20_000 }, (_, i) => chrome(100 + i));
  results.push(
    measure("enrich/user agent parse (uncached)", coldUa, (ua) => parseUserAgent(ua), "ua-parser-js 1.x + bot regex"),
  );
  const uaRequests = Array.from({ length: 200_000 }, (_, i) =>
    requestFor({ ip: "8.8.8.8", user_agent: chrome(100 + (i % 500)) }),
  );
  for (const r of uaRequests.slice(0, 500)) enricher.enrich(r);
  results.push(
    measure("enrich/ip + user agent cached", uaRequests, (r) => enricher.enrich(r), "500 user agents, all in the LRU"),
  );

  const blocks = Array.from({ length: 10_000 }, () => `${ipv4(next())}/${16 + (next() % 17)}`);
  const matcher = CidrMatcher.of(blocks);
  const probes = Array.from({ length: 200_000 }, () => ipv4(next()));
  results.push(
    measure(
      "enrich/cidr match (10k blocks)",
      probes,
      (ip) => matcher.containsText(ip),
      "parse + binary search, no cache",
    ),
  );

  enricher.close();
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const r of await benchEnrich()) console.log(JSON.stringify(r));
}
