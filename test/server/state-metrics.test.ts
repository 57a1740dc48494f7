/**
 * `/metrics` with Redis state: the store's own running totals (round trips, identity profile copy
 * checks, server changes, Cluster slot-moved retries) are read at each scrape, against the
 * machine's Redis. A memory store adds no such series.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStateStore } from "../../src/state/open-state.js";
import type { RedisStateStore } from "../../src/state/redis.js";
import { redisFor } from "../support/redis-probe.js";
import { REPO_ROOT, testApp } from "./support.js";

const URL = process.env.SIGNALBOX_TEST_REDIS ?? "redis://127.0.0.1:6379/0";
const PREFIX = `sbmetrics-${randomUUID().slice(0, 8)}:`;
const DEFAULT_POLICY = resolve(REPO_ROOT, "policies/default.yaml");

const up = await redisFor("the Redis state metrics tests", URL);

/** A sign-in by `user` from a residential address, as an AuthZEN evaluation. */
const login = (user: string) => ({
  subject: { type: "user", id: user },
  action: { name: "login" },
  resource: { type: "application", id: "portal" },
  context: { ip: "81.2.69.160", user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" },
});

/** The value of an unlabelled (or exactly labelled) series in a Prometheus text body. */
function sample(body: string, series: string): number | undefined {
  const line = body.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.skipIf(!up)("GET /metrics with Redis state", () => {
  let dir: string;
  let store: RedisStateStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-state-metrics-"));
    store = (await openStateStore(`${URL}?prefix=${PREFIX}`, dir)) as RedisStateStore;
  });

  afterAll(async () => {
    await store?.flushPrefix();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reports the store's round trips and profile copy checks as they stand at the scrape", async () => {
    const t = await testApp({ state: store, policyFile: DEFAULT_POLICY });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await t.app.inject({ method: "POST", url: "/access/v1/evaluation", payload: login("carol") });
        expect(res.statusCode).toBe(200);
      }
      const body = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
      const stats = store.stats();
      expect(stats.roundTrips).toBeGreaterThan(0);
      // The second and third sign-ins read carol's profile from the node's copy, checked by version.
      expect(stats.copyHits).toBeGreaterThan(0);
      expect(body).toContain("# TYPE signalbox_state_round_trips_total counter");
      expect(sample(body, "signalbox_state_round_trips_total")).toBe(stats.roundTrips);
      expect(sample(body, 'signalbox_state_profile_copy_checks_total{result="same"}')).toBe(stats.copyHits);
      expect(sample(body, 'signalbox_state_profile_copy_checks_total{result="stale"}')).toBe(stats.copyStale);
      expect(sample(body, "signalbox_state_server_changes_total")).toBe(0);
      expect(sample(body, "signalbox_state_slot_moved_retries_total")).toBe(0);
      // Read again at the next scrape, not frozen at the first.
      await t.app.inject({ method: "POST", url: "/access/v1/evaluation", payload: login("dave") });
      const later = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
      expect(sample(later, "signalbox_state_round_trips_total")).toBeGreaterThan(stats.roundTrips);
    } finally {
      await t.app.close();
    }
  });

  it("adds no state store series for a store without running totals (memory)", async () => {
    const t = await testApp({ policyFile: DEFAULT_POLICY });
    try {
      await t.app.inject({ method: "POST", url: "/access/v1/evaluation", payload: login("erin") });
      const body = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
      expect(body).toContain("signalbox_state_errors_total");
      expect(body).not.toContain("signalbox_state_round_trips_total");
      expect(body).not.toContain("signalbox_state_profile_copy_checks_total");
    } finally {
      await t.close();
    }
  });
});
