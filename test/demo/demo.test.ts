/** `signalbox demo --no-serve`: replays simulated days over HTTP and prints a segmentation summary that adds up. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAuditStore } from "../../src/audit/open-audit.js";
import { registerDemoCommand } from "../../src/cli/commands/demo.js";
import type { CliIO } from "../../src/cli/io.js";
import type { DemoSummary } from "../../src/demo/summary.js";
import { CONTROL_PATHS } from "../../src/model/control-path.js";
import { DEFAULT_POLICY_FILE, loadPolicy } from "../../src/policy/load.js";

interface Captured {
  out: string;
  err: string;
}

async function runDemoCommand(args: readonly string[]): Promise<Captured> {
  const captured: Captured = { out: "", err: "" };
  const io: CliIO = {
    out: (s) => {
      captured.out += s.endsWith("\n") ? s : `${s}\n`;
    },
    err: (s) => {
      captured.err += s.endsWith("\n") ? s : `${s}\n`;
    },
  };
  const program = new Command().exitOverride();
  registerDemoCommand(program, io);
  await program.parseAsync(["demo", ...args], { from: "user" });
  return captured;
}

const SMALL = ["--no-serve", "--days", "2", "--people", "10", "--port", "0"];
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

let segmentNames: Set<string>;
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "signalbox-demo-"));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  const policy = await loadPolicy(DEFAULT_POLICY_FILE);
  segmentNames = new Set(policy.segments.map((s) => s.name));
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("signalbox demo --json", () => {
  let summary: DemoSummary & { sent: number; dataDir: string; url: string };

  beforeAll(async () => {
    const dir = tempDir();
    const { out } = await runDemoCommand([...SMALL, "--json", "--data-dir", dir]);
    summary = JSON.parse(out) as typeof summary;
  }, 120_000);

  it("counts every request it sent exactly once, per segment and per control path", () => {
    expect(summary.sent).toBeGreaterThan(100);
    expect(summary.requests).toBe(summary.sent);
    expect(summary.legitimate + summary.attacks).toBe(summary.requests);
    expect(summary.attacks).toBeGreaterThan(0);
    expect(sum(summary.segments.map((s) => s.total))).toBe(summary.requests);
    expect(sum(Object.values(summary.paths))).toBe(summary.requests);
    for (const row of summary.segments) {
      expect(sum(Object.values(row.paths))).toBe(row.total);
      expect(Object.keys(row.paths).sort()).toEqual([...CONTROL_PATHS].sort());
    }
    for (const path of CONTROL_PATHS) {
      expect(sum(summary.segments.map((s) => s.paths[path] ?? 0))).toBe(summary.paths[path]);
    }
  });

  it("names only the default policy's segments and sends people and machines to different ones", () => {
    expect(summary.segments.length).toBeGreaterThanOrEqual(3);
    for (const row of summary.segments) expect(segmentNames).toContain(row.segment);
    const names = summary.segments.map((s) => s.segment);
    expect(names).toContain("services");
    expect(names.some((n) => n.startsWith("people-"))).toBe(true);
  });

  it("mostly allows, diverts some, and catches attack incidents from the labels", () => {
    expect(summary.paths.allow ?? 0).toBeGreaterThan(summary.requests / 2);
    expect(summary.requests - (summary.paths.allow ?? 0)).toBeGreaterThan(0);
    expect(summary.incidents).toBeGreaterThan(0);
    expect(summary.incidents).toBe(sum(summary.scenarios.map((s) => s.incidents)));
    expect(summary.caught).toBe(sum(summary.scenarios.map((s) => s.caught)));
    expect(summary.caught).toBeGreaterThan(0);
    expect(summary.caught).toBeLessThanOrEqual(summary.incidents);
    expect(summary.legitimateDiverted).toBeLessThanOrEqual(summary.legitimateOnAttackDay);
    for (const r of summary.topReasons) expect(r.count).toBeGreaterThan(0);
    expect(summary.topReasons.map((r) => r.code)).not.toContain("low_risk");
  });

  it("explains a few decisions with segment, score, contributions, reasons and obligations", async () => {
    const kinds = summary.explained.map((e) => e.kind);
    expect(kinds).toContain("step_up");
    expect(kinds).toContain("deny_or_quarantine");
    expect(new Set(kinds).size).toBe(kinds.length);
    for (const e of summary.explained) {
      expect(segmentNames).toContain(e.segment);
      expect(e.score).toBeGreaterThanOrEqual(0);
      expect(e.score).toBeLessThanOrEqual(100);
      expect(e.reasons.length).toBeGreaterThan(0);
      expect(sum(e.contributions.map((c) => c.points))).toBeGreaterThan(0);
      if (e.kind === "step_up") {
        expect(e.controlPath).toBe("step_up");
        expect(e.obligations.some((o) => o.type === "step-up")).toBe(true);
        expect(["step_up_passed", "step_up_failed"]).toContain(e.outcome);
      }
      if (e.kind === "deny_or_quarantine") expect(["deny", "quarantine"]).toContain(e.controlPath);
      if (e.kind === "machine_reissue") {
        expect(e.controlPath).toBe("step_up");
        expect(e.subject.startsWith("user:")).toBe(false);
        // a machine is never sent an MFA prompt
        expect(e.obligations.some((o) => o.type === "step-up")).toBe(false);
        expect(e.obligations.some((o) => o.type === "custom")).toBe(true);
      }
      if (e.kind === "hold") expect(["approved", "rejected"]).toContain(e.outcome);
    }
    // the decisions went through the service: its audit trail has them, with the outcomes the demo reported
    const store = await openAuditStore(undefined, summary.dataDir);
    try {
      for (const e of summary.explained) {
        const audited = await store.getDecision(e.decisionId);
        expect(audited?.entry.decision.controlPath).toBe(e.controlPath);
        expect(audited?.outcomes.map((o) => o.outcome)).toEqual(e.outcome ? [e.outcome] : []);
      }
    } finally {
      await store.close();
    }
  });
});

describe("signalbox demo (text)", () => {
  it("prints the segment × control path table, the catches and the explained decisions", async () => {
    const dir = tempDir();
    const { out, err } = await runDemoCommand([...SMALL, "--data-dir", dir]);
    expect(err).toContain(dir);
    const m = /Segmentation summary: (\d+) requests/.exec(out);
    expect(m).not.toBeNull();
    const lines = out.split("\n");
    const header = lines.find((l) => l.startsWith("segment "));
    expect(header).toBeDefined();
    const columns = (header ?? "").trim().split(/\s+/);
    expect(columns.at(-1)).toBe("total");
    for (const c of columns.slice(1, -1)) expect(CONTROL_PATHS as readonly string[]).toContain(c);
    // rows between the rule line and the "all segments" line are segments of the policy, and add up
    const start = lines.indexOf(header ?? "") + 2;
    const end = lines.findIndex((l) => l.startsWith("all segments"));
    expect(end).toBeGreaterThan(start);
    let total = 0;
    for (const row of lines.slice(start, end)) {
      const cells = row.trim().split(/\s+/);
      expect(segmentNames).toContain(cells[0]);
      const counts = cells.slice(1).map(Number);
      expect(sum(counts.slice(0, -1))).toBe(counts.at(-1));
      total += counts.at(-1) ?? 0;
    }
    expect(total).toBe(Number(m?.[1]));
    expect(out).toMatch(/Attack incidents caught: \d+ of \d+/);
    expect(out).toContain("Explained decisions:");
    expect(out).toMatch(/→ step_up {3}segment people-/);
    expect(out).toMatch(/score contributions:\n {6}\+\d/);
    // --no-serve: no serving banner
    expect(out).not.toContain("Ctrl-C to stop");
  }, 120_000);
});
