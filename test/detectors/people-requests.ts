/** Requests, times and enrichment for the people detectors' tests. */

import type { Enrichment } from "../../src/enrich/enrichment.js";
import type { AccessRequest, RequestContext } from "../../src/model/request.js";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** Monday 2 November 2026, 09:00 UTC. */
export const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);

export function login(user: string, context: RequestContext = {}): AccessRequest {
  return {
    subject: { type: "user", id: user },
    action: { name: "login" },
    resource: { type: "app", id: "portal" },
    context: { authn: { result: "success", method: "password" }, ...context },
  };
}

export function failedLogin(user: string, context: RequestContext = {}): AccessRequest {
  return login(user, { ...context, authn: { result: "failure", method: "password" } });
}

export function access(user: string, context: RequestContext = {}): AccessRequest {
  return {
    subject: { type: "user", id: user },
    action: { name: "read" },
    resource: { type: "document", id: "doc-1" },
    context,
  };
}

export function machine(id: string, context: RequestContext = {}): AccessRequest {
  return {
    subject: { type: "service", id },
    action: { name: "login" },
    resource: { type: "api", id: "billing" },
    context: { authn: { result: "failure" }, ...context },
  };
}

export const OSLO: Enrichment = {
  ip: "198.51.100.10",
  geo: { country: "NO", city: "Oslo", lat: 59.91, lon: 10.75, accuracyKm: 5, source: "database" },
  network: { asn: 2119, org: "Telenor", prefix: "198.51.100.0/24", hosting: false, anonymizer: false },
  client: { browser: "Firefox", browserMajor: "132", os: "Windows", osVersion: "10", device: "desktop", bot: false },
};

export const SYDNEY: Enrichment = {
  ip: "203.0.113.50",
  geo: { country: "AU", city: "Sydney", lat: -33.87, lon: 151.21, accuracyKm: 10, source: "database" },
  network: { asn: 1221, org: "Telstra", prefix: "203.0.113.0/24", hosting: false, anonymizer: false },
  client: { browser: "Chrome", browserMajor: "131", os: "Android", osVersion: "14", device: "mobile", bot: false },
};
