import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../src/server/app.js";
import { openStateStore } from "../../src/state/open-state.js";
import type { StateStore } from "../../src/state/port.js";
import type { RedisStateStore } from "../../src/state/redis.js";
import { redisFor } from "../support/redis-probe.js";
import { REPO_ROOT, testApp, testConfig } from "./support.js";

const REDIS_URL = process.env.SIGNALBOX_TEST_REDIS ?? "redis://127.0.0.1:6379/0";
const redisUp = await redisFor("the dashboard test's Redis-state panels", REDIS_URL);

/** The metric names (`# TYPE` lines) a service on `state` (memory when not given) exposes. */
async function exposedMetrics(state?: StateStore): Promise<Set<string>> {
  const t = await testApp(state ? { state } : {});
  try {
    const app = buildApp({ runtime: t.runtime, config: testConfig(), logger: false });
    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    await app.close();
    return new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1] as string));
  } finally {
    await t.app.close();
  }
}

describe("deploy/grafana-dashboard.json", () => {
  it("queries only metrics the service exposes (with memory state, or Redis state for its Redis panels)", async () => {
    const dashboard = readFileSync(join(REPO_ROOT, "deploy/grafana-dashboard.json"), "utf8");
    const used = new Set(
      [...dashboard.matchAll(/\bsignalbox_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, "")),
    );
    expect(used.size).toBeGreaterThan(8);
    const exposed = await exposedMetrics();
    if (redisUp) {
      const store = (await openStateStore(
        `${REDIS_URL}?prefix=sbdash-${randomUUID().slice(0, 8)}:`,
        tmpdir(),
      )) as RedisStateStore;
      try {
        const withRedis = await exposedMetrics(store);
        for (const name of withRedis) exposed.add(name);
        // The Redis panels query series only a Redis store adds.
        expect(withRedis).toContain("signalbox_state_round_trips_total");
      } finally {
        await store.close();
      }
    } else {
      // Without a Redis (warned loudly above; never in CI) the Redis panels' series go unchecked.
      for (const name of [...used]) if (/^signalbox_state_(?!errors_total)/.test(name)) used.delete(name);
    }
    for (const name of used) expect(exposed, name).toContain(name);
  });
});
