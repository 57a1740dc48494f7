/** Smoke test of `bench/threads.ts`: per-thread CPU per decision for the embedded default and for Redis state. */

import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { redisAnswers } from "../support/redis-probe.js";

const REDIS = process.env.SIGNALBOX_BENCH_REDIS ?? "redis://127.0.0.1:6379/0";
const redisUp = await redisAnswers(REDIS);
if (!redisUp && process.env.CI === "true") throw new Error(`redis is not reachable at '${REDIS}' and CI=true`);

function threads(args: string[]): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  return spawnSync(process.execPath, ["--import", "tsx", "bench/threads.ts", ...args], {
    encoding: "utf8",
    timeout: 180_000,
  }) as ReturnType<typeof spawnSync> & { stdout: string; stderr: string };
}

describe("bench/threads.ts", () => {
  it("prints the rate and a CPU figure for the main thread and the SQLite threads", () => {
    const res = threads(["--stores", "audit", "--decisions", "500", "--in-flight", "16"]);
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/audit, 16 in flight: 500 decisions, \d+\/s/);
    const rows = [...res.stdout.matchAll(/thread \d+\s+([\d.]+) µs/g)].map((m) => Number(m[1]));
    // The main thread and at least the audit writer spent CPU on the timed part.
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows[0]).toBeGreaterThan(0);
  });

  it.skipIf(!redisUp)("prints Redis's time and the profile copies' reads for Redis state", () => {
    const res = threads(["--stores", "redis", "--decisions", "500", "--in-flight", "16", "--profile-cache", "50"]);
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/redis, 16 in flight: 500 decisions, \d+\/s/);
    expect(res.stdout).toMatch(/Redis: [\d.]+ µs per decision \(INFO commandstats\)/);
    expect(res.stdout).toMatch(/node 1: profile copies \(at most 50\): \d+ reads served, \d+ out of date/);
  });

  it.skipIf(!redisUp)(
    "deals the requests to several nodes on one prefix with --nodes, each reporting its copies",
    () => {
      const res = threads(["--stores", "redis", "--decisions", "500", "--in-flight", "16", "--nodes", "2"]);
      expect(res.stderr).toBe("");
      expect(res.status).toBe(0);
      expect(res.stdout).toMatch(/500 decisions dealt in turn to 2 nodes in this process/);
      const served = [...res.stdout.matchAll(/node (\d): profile copies .*: (\d+) reads served, (\d+) out of date/g)];
      expect(served.map((m) => m[1])).toEqual(["1", "2"]);
      // Each node sees the other write its identities, so it set its copies aside during the warm-up
      // (after its first 1,000 checks, for 20,000 reads): hardly a read of the timed 250 is served by one.
      for (const m of served) expect(Number(m[2])).toBeLessThan(50);
    },
  );

  it("names a bad argument", () => {
    expect(threads(["--stores", "nope"])).toMatchObject({ status: 1, stderr: expect.stringContaining('"nope"') });
    expect(threads(["--decisions", "1.5"])).toMatchObject({
      status: 1,
      stderr: expect.stringContaining("--decisions must be a whole number"),
    });
    expect(threads(["--stores", "durable", "--nodes", "2"])).toMatchObject({
      status: 1,
      stderr: expect.stringContaining("--nodes above 1 needs --stores redis"),
    });
  });
});
