/**
 * The labelled evaluation of the default policy: the goals of the detection issue, checked on a
 * small world (the full run and its table are in docs/evaluation.md).
 */

import { beforeAll, describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/create-engine.js";
import { createDatabaseEnricher } from "../../src/enrich/database-enricher.js";
import { type EvaluationReport, evaluate } from "../../src/evaluate/evaluate.js";
import { formatReport } from "../../src/evaluate/report.js";
import { loadPolicy } from "../../src/policy/load.js";
import { simulate } from "../../src/simulate/simulate.js";
import { DAY } from "../../src/simulate/time.js";
import { MemoryStateStore } from "../../src/state/memory.js";

let report: EvaluationReport;

beforeAll(async () => {
  const sim = simulate({
    seed: 11,
    people: 40,
    services: 3,
    pipelines: 3,
    agents: 3,
    days: 18,
    warmupDays: 14,
    incidentsPerScenario: 3,
  });
  const enricher = await createDatabaseEnricher({ watch: false });
  const engine = createEngine({
    policy: await loadPolicy(),
    state: new MemoryStateStore(),
    eventTime: "request",
    enricher,
  });
  report = await evaluate(engine, sim.events, { warmupEnds: sim.options.start + sim.options.warmupDays * DAY });
  await engine.close();
}, 120_000);

describe("signalbox eval on the default policy", () => {
  it("catches at least 99% of attack incidents, every scenario represented", () => {
    expect(Object.keys(report.scenarios)).toHaveLength(15);
    expect(report.incidents).toBe(45);
    expect(report.catchRate).toBeGreaterThanOrEqual(0.99);
  });

  it("diverts at most 2% of legitimate requests after the warm-up", () => {
    expect(report.legitimate).toBeGreaterThan(1000);
    expect(report.friction).toBeLessThanOrEqual(0.02);
    expect(report.frictionByKind.people.diverted / report.frictionByKind.people.requests).toBeLessThanOrEqual(0.02);
  });

  it("never asks a machine identity for interactive MFA and never lets a human attack through", () => {
    expect(report.machineMfaPrompts).toBe(0);
    expect(report.humanAttacksAllowed).toBe(0);
  });

  it("prints a readable table with every scenario and segment", () => {
    const text = formatReport(report);
    for (const name of Object.keys(report.scenarios)) expect(text).toContain(name);
    for (const seg of Object.keys(report.segments)) expect(text).toContain(seg);
    expect(text).toMatch(/friction after warm-up: \d+ of \d+/);
  });
});
