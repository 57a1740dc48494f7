/** Flags a person who would have had to travel faster than an airliner since their last trusted location. */

import type { DetectorFinding, Severity } from "../model/finding.js";
import type { JsonObject, JsonValue } from "../model/request.js";
import { type Detector, type DetectorContext, numParam } from "./detector.js";
import { haversineKm, isLatLon } from "./geo-distance.js";
import { freshSince } from "./learned-values.js";
import { mayTeach } from "./login-attempt.js";

const FIELD = "last_location";
const HOUR_MS = 3_600_000;
/** Two requests in the same instant are treated as one minute apart, so the speed stays finite. */
const MIN_ELAPSED_HOURS = 1 / 60;

interface Location {
  lat: number;
  lon: number;
  at: number;
  accuracyKm: number;
  country: string | null;
}

function currentLocation(ctx: DetectorContext): Location | undefined {
  const g = ctx.enrichment.geo;
  if (!g || !isLatLon(g.lat, g.lon)) return undefined;
  const accuracy = typeof g.accuracyKm === "number" && g.accuracyKm >= 0 ? g.accuracyKm : undefined;
  return {
    lat: g.lat as number,
    lon: g.lon as number,
    at: ctx.now,
    accuracyKm: accuracy ?? numParam(ctx, "default_accuracy_km", 25),
    country: g.country ?? null,
  };
}

function storedLocation(v: JsonValue | undefined): Location | undefined {
  if (!v || typeof v !== "object" || Array.isArray(v)) return undefined;
  const { lat, lon, at, accuracyKm, country } = v;
  if (!isLatLon(lat, lon) || typeof at !== "number") return undefined;
  return {
    lat: lat as number,
    lon: lon as number,
    at,
    accuracyKm: typeof accuracyKm === "number" && accuracyKm >= 0 ? accuracyKm : 0,
    country: typeof country === "string" ? country : null,
  };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

export const impossibleTravelDetector: Detector = {
  id: "impossible_travel",
  description: "a person appears farther from their last trusted location than they could have travelled",
  defaults: {
    points: 40,
    high_points: 60,
    critical_points: 80,
    max_speed_kmh: 1000,
    high_speed_kmh: 2500,
    critical_speed_kmh: 10000,
    min_distance_km: 500,
    default_accuracy_km: 25,
    max_age_days: 180,
  },
  applies: (ctx) => ctx.kind === "human",
  needs(ctx, needs) {
    needs.profile(ctx.subjectKey);
  },
  detect(ctx, state): DetectorFinding | undefined {
    const here = currentLocation(ctx);
    const last = storedLocation(state.profile(ctx.subjectKey).values[FIELD]);
    if (!here || !last || last.at < freshSince(ctx) || last.at > ctx.now) return undefined;
    const rawKm = haversineKm(last, here);
    // Either fix may be off by its accuracy radius; only distance beyond both radii is certain.
    const distanceKm = Math.max(0, rawKm - last.accuracyKm - here.accuracyKm);
    if (distanceKm < numParam(ctx, "min_distance_km", 500)) return undefined;
    const elapsedHours = Math.max(MIN_ELAPSED_HOURS, (ctx.now - last.at) / HOUR_MS);
    const speed = distanceKm / elapsedHours;
    const maxSpeed = numParam(ctx, "max_speed_kmh", 1000);
    if (speed <= maxSpeed) return undefined;
    let severity: Severity = "medium";
    let points = numParam(ctx, "points", 40);
    if (speed >= numParam(ctx, "critical_speed_kmh", 10000)) {
      severity = "critical";
      points = numParam(ctx, "critical_points", 80);
    } else if (speed >= numParam(ctx, "high_speed_kmh", 2500)) {
      severity = "high";
      points = numParam(ctx, "high_points", 60);
    }
    const evidence: JsonObject = {
      from: { lat: last.lat, lon: last.lon, country: last.country, at: new Date(last.at).toISOString() },
      to: { lat: here.lat, lon: here.lon, country: here.country },
      distance_km: round(rawKm),
      certain_distance_km: round(distanceKm),
      accuracy_km: [last.accuracyKm, here.accuracyKm],
      elapsed_minutes: round((ctx.now - last.at) / 60_000),
      speed_kmh: Math.round(speed),
      max_speed_kmh: maxSpeed,
    };
    return {
      severity,
      points,
      code: "impossible_travel",
      message: `travel of ${Math.round(distanceKm)} km at ${Math.round(speed)} km/h since the last trusted location`,
      evidence,
    };
  },
  update(ctx, _state, sink) {
    const here = currentLocation(ctx);
    if (!here || !mayTeach(ctx)) return;
    // Learned, not observed: an untrusted request must not move the anchor, or an attacker's own
    // location would become the reference and the real user would look like the traveller.
    sink.learn({
      op: "set",
      profile: ctx.subjectKey,
      field: FIELD,
      value: { lat: here.lat, lon: here.lon, at: here.at, accuracyKm: here.accuracyKm, country: here.country },
    });
  },
};
