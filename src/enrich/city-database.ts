/** The IP → place lookup over the DB-IP City Lite MMDB files (one per address family). */

import { readFile } from "node:fs/promises";
import { Reader, type Response } from "maxmind";
import { SignalboxError } from "../errors/signalbox-error.js";
import type { GeoFacts } from "./enrichment.js";
import { formatIp, type IpAddress } from "./ip-address.js";

/** The record layout of the ip-location-db city MMDB files. */
interface CityRecord {
  country_code?: string;
  state1?: string;
  state2?: string;
  city?: string;
  postcode?: string;
  latitude?: number;
  longitude?: number;
  timezone?: string;
}

/**
 * DB-IP Lite publishes no accuracy radius. City-level IP geolocation is commonly right within a few
 * tens of kilometres, so a city match claims 50 km; detectors such as impossible travel use the
 * radius as slack and must not read more precision into the point than there is.
 */
export const CITY_ACCURACY_KM = 50;

/** Without a city the point is a country or region centroid: claim a radius that says "coarse". */
export const REGION_ACCURACY_KM = 500;

/** The enricher keeps its own LRU of whole results, so the reader's internal cache would only duplicate it. */
const NO_CACHE = { get: () => undefined, set: () => undefined };

export class CityDatabase {
  private constructor(
    private readonly v4: Reader<Response>,
    private readonly v6: Reader<Response>,
    /** When the data was built, from the MMDB metadata. */
    readonly builtAt: Date,
  ) {}

  /** Reads both files into memory (about 134 MB together); lookups then touch no disk. */
  static async open(files: { ipv4: string; ipv6: string }): Promise<CityDatabase> {
    const [b4, b6] = await Promise.all([readDb(files.ipv4), readDb(files.ipv6)]);
    try {
      const v4 = new Reader<Response>(b4, { cache: NO_CACHE });
      const v6 = new Reader<Response>(b6, { cache: NO_CACHE });
      return new CityDatabase(v4, v6, v4.metadata.buildEpoch);
    } catch (cause) {
      throw new SignalboxError("CONFIG_INVALID", `"${files.ipv4}" or "${files.ipv6}" is not an MMDB city database`, {
        cause,
      });
    }
  }

  /** The place of an address, or `undefined` when the database has none (private ranges, unknown). */
  lookup(ip: IpAddress): GeoFacts | undefined {
    // Each file covers one family only: the IPv4 tree answers garbage for IPv6 input, so route by family.
    const reader = ip.version === 4 ? this.v4 : this.v6;
    let record: CityRecord | null;
    try {
      // The reader's types describe MaxMind's layouts; these files carry the flat layout above.
      record = reader.get(formatIp(ip)) as unknown as CityRecord | null;
    } catch {
      return undefined;
    }
    if (!record) return undefined;
    const geo: GeoFacts = { source: "database" };
    if (record.country_code && record.country_code !== "ZZ") geo.country = record.country_code.toUpperCase();
    if (record.state1) geo.region = record.state1;
    if (record.city) geo.city = record.city;
    if (typeof record.latitude === "number" && typeof record.longitude === "number") {
      geo.lat = record.latitude;
      geo.lon = record.longitude;
      geo.accuracyKm = record.city ? CITY_ACCURACY_KM : REGION_ACCURACY_KM;
    }
    return geo.country || geo.lat !== undefined ? geo : undefined;
  }
}

async function readDb(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (cause) {
    throw new SignalboxError("CONFIG_INVALID", `cannot read city database "${file}"`, { cause });
  }
}
