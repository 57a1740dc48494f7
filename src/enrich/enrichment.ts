/** What enrichment adds to a request before detection: place, network, reputation and client. */

import type { AccessRequest } from "../model/request.js";

export interface GeoFacts {
  country?: string;
  region?: string;
  city?: string;
  lat?: number;
  lon?: number;
  /** Accuracy radius in kilometres (PEP-supplied or the database's typical radius). */
  accuracyKm?: number;
  /** Where the facts came from: the PEP's `context.geo` takes precedence over the database. */
  source: "pep" | "database";
}

export interface NetworkFacts {
  asn?: number;
  org?: string;
  /** The /24 (IPv4) or /48 (IPv6) prefix, for "known network" learning. */
  prefix?: string;
  /** The ASN is a hosting / datacenter network. */
  hosting: boolean;
  /** The address is a known VPN, proxy or Tor exit. */
  anonymizer: boolean;
}

export interface ReputationFacts {
  listed: boolean;
  /** Names of the lists that contain the address. */
  lists: string[];
}

export interface ClientFacts {
  browser?: string;
  browserMajor?: string;
  os?: string;
  osVersion?: string;
  device: "desktop" | "mobile" | "tablet" | "bot" | "other";
  bot: boolean;
}

export interface Enrichment {
  /** The normalised source address, when the request carried a valid one. */
  ip?: string;
  geo?: GeoFacts;
  network?: NetworkFacts;
  reputation?: ReputationFacts;
  client?: ClientFacts;
}

/** Turns a request into enrichment facts. Must be synchronous, cached, and never throw for bad input. */
export interface Enricher {
  enrich(request: AccessRequest): Enrichment;
}

/** Enrichment from the request alone (PEP-supplied geo), with no databases. */
export const PEP_ONLY_ENRICHER: Enricher = {
  enrich(request) {
    const ctx = request.context;
    const out: Enrichment = {};
    if (typeof ctx?.ip === "string") out.ip = ctx.ip;
    const g = ctx?.geo;
    if (g && typeof g === "object") {
      out.geo = { source: "pep" };
      if (typeof g.country === "string") out.geo.country = g.country;
      if (typeof g.region === "string") out.geo.region = g.region;
      if (typeof g.city === "string") out.geo.city = g.city;
      if (typeof g.lat === "number") out.geo.lat = g.lat;
      if (typeof g.lon === "number") out.geo.lon = g.lon;
      if (typeof g.accuracy_km === "number") out.geo.accuracyKm = g.accuracy_km;
    }
    return out;
  },
};
