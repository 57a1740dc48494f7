/** Smoke test of `npm run bench`: the quick engine group completes and prints its figures and goals. */

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "signalbox-bench-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bench/run.ts --quick --only engine", () => {
  it("prints decisions/s with ranges and the goal verdicts, and writes the JSON report", () => {
    const out = join(dir, "run.json");
    const res = spawnSync(
      process.execPath,
      ["--import", "tsx", "bench/run.ts", "--quick", "--only", "engine", "--out", out],
      {
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    expect(res.stderr).not.toMatch(/error/i);
    expect(res.status).toBe(0);
    expect(res.stdout).toContain("== engine:");
    expect(res.stdout).toMatch(/engine\.decide default policy, memory, audit off\s+[\d,]+ \([\d,]+–[\d,]+\)/);
    expect(res.stdout).toMatch(/goal: ≥ 50,000 decisions\/s: (MET|NOT MET)/);
    expect(res.stdout).toMatch(/goal: p99 < 100 µs: (MET|NOT MET)/);
    expect(res.stdout).toMatch(/node v\d+/);
    expect(res.stdout).not.toContain("== authz");

    const report = JSON.parse(readFileSync(out, "utf8")) as {
      environment: { node: string; quick: boolean };
      groups: { name: string; rows: { opsPerSec: { median: number; min: number; max: number }; runs: unknown[] }[] }[];
    };
    expect(report.environment.quick).toBe(true);
    expect(report.groups.map((g) => g.name)).toEqual(["engine"]);
    const row = report.groups[0]?.rows[0];
    expect(row?.runs).toHaveLength(3);
    expect(row?.opsPerSec.median).toBeGreaterThan(0);
    expect(row?.opsPerSec.min).toBeLessThanOrEqual(row?.opsPerSec.median ?? 0);
    expect(row?.opsPerSec.max).toBeGreaterThanOrEqual(row?.opsPerSec.median ?? 0);
  });

  it("rejects an unknown group by name", () => {
    const res = spawnSync(process.execPath, ["--import", "tsx", "bench/run.ts", "--quick", "--only", "nosuch"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('unknown group "nosuch"');
  });
});
