/**
 * Scores a person's login with the likelihood-ratio model (Freeman et al., NDSS 2016): how much more
 * likely its network and client features are for an attacker than for this user's own login history.
 */

import { hash } from "node:crypto";
import type { DetectorFinding, Severity } from "../model/finding.js";
import type { JsonObject } from "../model/request.js";
import {
  type AttackerModel,
  type FeatureCounts,
  type History,
  LOGIN_FEATURES,
  type LoginFeature,
  type LoginFeatures,
  loginLikelihood,
} from "../scoring/likelihood-model.js";
import type { Profile } from "../state/port.js";
import { type Detector, type DetectorContext, numParam } from "./detector.js";
import { type FreshSet, freshSet, freshSince } from "./learned-values.js";
import { mayTeach } from "./login-attempt.js";
import { sourceAddress } from "./source-network.js";

/** The population's login history: every trusted successful login of every person. */
export const POPULATION_KEY = "global:login";

/** Profile set fields, kept apart from `countries`, `asns`, … because they count logins only, once each. */
export const LOGIN_FIELDS: Readonly<Record<LoginFeature, string>> = {
  country: "login_countries",
  asn: "login_asns",
  ip: "login_ips",
  device_type: "login_device_types",
  os: "login_oses",
  browser: "login_browsers",
  ua: "login_uas",
};

// `detect` and `update` of one request ask for the same features in turn; hashing the user agent twice
// was a visible part of a login's cost. The context is immutable, so its features are too.
let lastContext: DetectorContext | undefined;
let lastFeatures: LoginFeatures = {};

/**
 * Short hashes of user agents seen lately: a service sees the same few hundred strings over and over,
 * and hashing one was a visible part of a login's cost. Bounded: emptied when full.
 */
const uaHashes = new Map<string, string>();
const MAX_UA_HASHES = 4096;

/** The user agent's short hash (the first 16 hex digits of its SHA-256). */
export function uaHash(ua: string): string {
  let h = uaHashes.get(ua);
  if (h === undefined) {
    h = hash("sha256", ua, "hex").slice(0, 16);
    if (uaHashes.size >= MAX_UA_HASHES) uaHashes.clear();
    uaHashes.set(ua, h);
  }
  return h;
}

/** The features of a login; the full user agent is kept as a short hash, the profile never stores it. */
export function loginFeaturesOf(ctx: DetectorContext): LoginFeatures {
  if (ctx !== lastContext) {
    lastFeatures = featuresOf(ctx);
    lastContext = ctx;
  }
  return lastFeatures;
}

function featuresOf(ctx: DetectorContext): LoginFeatures {
  const out: LoginFeatures = {};
  const { geo, network, client } = ctx.enrichment;
  if (geo?.country) out.country = geo.country.toUpperCase();
  if (typeof network?.asn === "number" && Number.isFinite(network.asn)) out.asn = `AS${network.asn}`;
  const ip = sourceAddress(ctx);
  if (ip) out.ip = ip;
  if (client) {
    out.device_type = client.device;
    if (client.os) out.os = client.osVersion ? `${client.os} ${client.osVersion}` : client.os;
    if (client.browser) out.browser = client.browserMajor ? `${client.browser} ${client.browserMajor}` : client.browser;
  }
  const ua = ctx.request.context?.user_agent;
  if (typeof ua === "string" && ua.length > 0) out.ua = uaHash(ua);
  return out;
}

/** A learned set's fresh values as the model's counts. */
class FreshCounts implements FeatureCounts {
  readonly total: number;
  readonly distinct: number;
  constructor(private readonly fresh: FreshSet) {
    this.total = fresh.total;
    this.distinct = fresh.size;
  }
  count(value: string): number {
    return this.fresh.count(value);
  }
}

const NO_COUNTS: FeatureCounts = Object.freeze({ count: () => 0, total: 0, distinct: 0 });

/**
 * The fresh history of each feature; with `only`, just the features the login has: the model never
 * reads the others, and the population's sets are large.
 */
function historyOf(profile: Profile, since: number, only?: LoginFeatures): History {
  const h = {} as Record<LoginFeature, FeatureCounts>;
  for (const f of LOGIN_FEATURES) {
    h[f] =
      only === undefined || only[f] !== undefined
        ? new FreshCounts(freshSet(profile, LOGIN_FIELDS[f], since))
        : NO_COUNTS;
  }
  return h;
}

function attackerOf(ctx: DetectorContext): AttackerModel {
  return ctx.params.attacker_model === "uniform" ? "uniform" : "population";
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

export const loginLikelihoodDetector: Detector = {
  id: "login_likelihood",
  description: "a login's network and client features are far likelier for an attacker than for this person's history",
  defaults: {
    points: 25,
    low_points: 10,
    high_points: 45,
    low_log_ratio: 5.5,
    medium_log_ratio: 8,
    high_log_ratio: 14,
    min_logins: 5,
    smoothing: 1,
    attacker_model: "population",
    cap: 50,
    population_cap: 2000,
    max_age_days: 180,
  },
  applies: (ctx) => ctx.kind === "human" && ctx.isLogin,
  needs(ctx, needs) {
    needs.profile(ctx.subjectKey);
    needs.profile(POPULATION_KEY);
  },
  detect(ctx, state): DetectorFinding | undefined {
    const features = loginFeaturesOf(ctx);
    const since = freshSince(ctx);
    const user = historyOf(state.profile(ctx.subjectKey), since);
    // Cold start: the ratio of a short history says more about its length than about the login.
    let logins = Number.NEGATIVE_INFINITY;
    for (const f of LOGIN_FEATURES) if (user[f].total > logins) logins = user[f].total;
    const minLogins = numParam(ctx, "min_logins", 5);
    if (logins < minLogins) return undefined;
    const population = historyOf(state.profile(POPULATION_KEY), since, features);
    const result = loginLikelihood(features, user, population, {
      smoothing: numParam(ctx, "smoothing", 1),
      attacker: attackerOf(ctx),
    });
    if (result.features.length === 0) return undefined;
    const score = result.logRatio;
    let severity: Severity;
    let points: number;
    if (score >= numParam(ctx, "high_log_ratio", 14)) {
      severity = "high";
      points = numParam(ctx, "high_points", 45);
    } else if (score >= numParam(ctx, "medium_log_ratio", 8)) {
      severity = "medium";
      points = numParam(ctx, "points", 25);
    } else if (score >= numParam(ctx, "low_log_ratio", 5.5)) {
      severity = "low";
      points = numParam(ctx, "low_points", 10);
    } else {
      return undefined;
    }
    const perFeature: JsonObject[] = result.features.map((r) => ({
      feature: r.feature,
      value: r.value,
      user_count: r.userCount,
      user_total: r.userTotal,
      population_count: r.populationCount,
      population_total: r.populationTotal,
      log_ratio: round2(r.logRatio),
    }));
    const unfamiliar = result.features.filter((r) => r.userCount === 0).map((r) => r.feature);
    return {
      severity,
      points,
      code: "login_likelihood",
      message: `login is about e^${round2(score)} times likelier for an attacker than for this identity`,
      evidence: {
        log_ratio: round2(score),
        attacker_model: attackerOf(ctx),
        logins,
        unfamiliar,
        features: perFeature,
      },
    };
  },
  update(ctx, _state, sink) {
    if (!mayTeach(ctx)) return;
    const features = loginFeaturesOf(ctx);
    const userCap = Math.max(1, Math.floor(numParam(ctx, "cap", 50)));
    const popCap = Math.max(1, Math.floor(numParam(ctx, "population_cap", 2000)));
    for (const f of LOGIN_FEATURES) {
      const value = features[f];
      if (value === undefined) continue;
      const field = LOGIN_FIELDS[f];
      sink.learn({ op: "see", profile: ctx.subjectKey, field, value, at: ctx.now, cap: userCap });
      sink.learn({ op: "see", profile: POPULATION_KEY, field, value, at: ctx.now, cap: popCap });
    }
  },
};
