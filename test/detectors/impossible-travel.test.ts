import { beforeEach, describe, expect, it } from "vitest";
import { haversineKm } from "../../src/detectors/geo-distance.js";
import { impossibleTravelDetector as detector } from "../../src/detectors/impossible-travel.js";
import type { Enrichment } from "../../src/enrich/enrichment.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";
import { access, DAY, failedLogin, HOUR, login, MINUTE, OSLO, SYDNEY, T0 } from "./people-requests.js";

const LONDON: Enrichment = { geo: { country: "GB", lat: 51.51, lon: -0.13, accuracyKm: 5, source: "pep" } };
const BERGEN: Enrichment = { geo: { country: "NO", lat: 60.39, lon: 5.32, accuracyKm: 5, source: "database" } };

describe("haversineKm", () => {
  it("matches known great-circle distances", () => {
    // Oslo–Sydney is about 15,950 km; London–Oslo about 1,150 km.
    expect(haversineKm({ lat: 59.91, lon: 10.75 }, { lat: -33.87, lon: 151.21 })).toBeGreaterThan(15_800);
    expect(haversineKm({ lat: 59.91, lon: 10.75 }, { lat: -33.87, lon: 151.21 })).toBeLessThan(16_100);
    expect(haversineKm({ lat: 51.51, lon: -0.13 }, { lat: 59.91, lon: 10.75 })).toBeGreaterThan(1_100);
    expect(haversineKm({ lat: 51.51, lon: -0.13 }, { lat: 59.91, lon: 10.75 })).toBeLessThan(1_200);
    expect(haversineKm({ lat: 10, lon: 20 }, { lat: 10, lon: 20 })).toBe(0);
  });
});

describe("impossible_travel", () => {
  let store: MemoryStateStore;
  beforeEach(() => {
    store = new MemoryStateStore();
  });

  it("flags Oslo then Sydney within an hour as critical, with distance and speed as evidence", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    const r = await runStep(detector, store, {
      request: access("alice"),
      now: T0 + HOUR,
      enrichment: SYDNEY,
      trusted: false,
    });
    expect(r.finding).toMatchObject({ code: "impossible_travel", severity: "critical", points: 80 });
    const ev = r.finding?.evidence ?? {};
    const raw = haversineKm({ lat: 59.91, lon: 10.75 }, { lat: -33.87, lon: 151.21 });
    expect(ev.distance_km).toBeCloseTo(raw, 0);
    // Both accuracy radii (5 km and 10 km) are subtracted from the distance.
    expect(ev.certain_distance_km).toBeCloseTo(raw - 15, 0);
    expect(ev.speed_kmh).toBe(Math.round(raw - 15));
    expect(ev.elapsed_minutes).toBe(60);
    expect(ev.accuracy_km).toEqual([5, 10]);
  });

  it("raises severity with speed", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    // ~15,935 km in 4 h ≈ 3,980 km/h: high; in 12 h ≈ 1,330 km/h: medium; in 24 h: a plausible flight.
    const high = await runStep(detector, store, {
      request: access("alice"),
      now: T0 + 4 * HOUR,
      enrichment: SYDNEY,
      trusted: false,
    });
    expect(high.finding?.severity).toBe("high");
    const medium = await runStep(detector, store, {
      request: access("alice"),
      now: T0 + 12 * HOUR,
      enrichment: SYDNEY,
      trusted: false,
    });
    expect(medium.finding?.severity).toBe("medium");
    expect(medium.finding?.points).toBe(40);
    const flight = await runStep(detector, store, {
      request: access("alice"),
      now: T0 + 24 * HOUR,
      enrichment: SYDNEY,
      trusted: false,
    });
    expect(flight.finding).toBeUndefined();
  });

  it("ignores short hops below the minimum distance, even when fast", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    // Oslo–Bergen is ~300 km: under min_distance_km, whatever the elapsed time.
    const r = await runStep(detector, store, { request: access("alice"), now: T0 + MINUTE, enrichment: BERGEN });
    expect(r.finding).toBeUndefined();
  });

  it("does not let wide accuracy radii create travel", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: LONDON });
    const vague: Enrichment = { geo: { country: "NO", lat: 59.91, lon: 10.75, accuracyKm: 800, source: "database" } };
    const r = await runStep(detector, store, { request: access("alice"), now: T0 + MINUTE, enrichment: vague });
    expect(r.finding).toBeUndefined();
  });

  it("moves the anchor only on trusted, non-failed requests", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    // The attacker in Sydney is not trusted and must not become the reference point.
    await runStep(detector, store, { request: access("alice"), now: T0 + HOUR, enrichment: SYDNEY, trusted: false });
    const failed = await runStep(detector, store, {
      request: failedLogin("alice"),
      now: T0 + HOUR,
      enrichment: SYDNEY,
    });
    expect(failed.learn).toHaveLength(0);
    const home = await runStep(detector, store, { request: access("alice"), now: T0 + 2 * HOUR, enrichment: OSLO });
    expect(home.finding).toBeUndefined();
  });

  it("stays silent without a last location, without coordinates, and for a stale anchor", async () => {
    const first = await runStep(detector, store, { request: login("bob"), now: T0, enrichment: OSLO });
    expect(first.finding).toBeUndefined();
    const noCoords = await runStep(detector, store, {
      request: access("bob"),
      now: T0 + MINUTE,
      enrichment: { geo: { country: "AU", source: "pep" } },
    });
    expect(noCoords.finding).toBeUndefined();
    expect(noCoords.learn).toHaveLength(0);
    const stale = await runStep(detector, store, {
      request: access("bob"),
      now: T0 + 200 * DAY,
      enrichment: SYDNEY,
      params: { max_age_days: 180 },
    });
    expect(stale.finding).toBeUndefined();
  });
});
