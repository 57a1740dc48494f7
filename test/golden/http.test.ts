/**
 * Golden cases over HTTP: the same YAML cases as the in-process run, sent through the service's
 * native API (`POST /v1/decide`, outcomes through `POST /v1/decisions/{id}/outcome`) with the engine
 * on event time. Cases that make a detector fail (`fail_detectors`) need an in-process engine and
 * run only in golden.test.ts.
 */

import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MemoryAuditTrail } from "../../src/audit/memory.js";
import { DEFAULT_CONFIG } from "../../src/config/serve-config.js";
import { createEngine } from "../../src/engine/create-engine.js";
import { PEP_ONLY_ENRICHER } from "../../src/enrich/enrichment.js";
import { isControlPath } from "../../src/model/control-path.js";
import type { CompiledPolicy } from "../../src/policy/compiled.js";
import { DEFAULT_POLICY_FILE, loadPolicy } from "../../src/policy/load.js";
import {
  type ComparableDecision,
  caseSteps,
  compareDecision,
  loadTestFile,
  outcomeApplies,
  type PolicyTestCase,
} from "../../src/policy-tests/test-cases.js";
import { buildApp } from "../../src/server/app.js";
import { ObserverHub, runtimeOf } from "../../src/server/runtime.js";
import { MemoryStateStore } from "../../src/state/memory.js";

const DIR = new URL("./", import.meta.url).pathname;
const FILES = readdirSync(DIR).filter((f) => f.endsWith(".yaml"));

interface NativeDecision {
  decision: boolean;
  decision_id: string;
  control_path: string;
  segment: string;
  reasons: { code: string }[];
  findings: { detector: string; error?: unknown }[];
}

async function runOverHttp(policy: CompiledPolicy, tc: PolicyTestCase): Promise<string[]> {
  const hub = new ObserverHub();
  const engine = createEngine({
    policy,
    state: new MemoryStateStore(),
    audit: new MemoryAuditTrail(),
    enricher: PEP_ONLY_ENRICHER,
    eventTime: "request",
    observer: hub,
  });
  const runtime = runtimeOf(engine, hub);
  const config = {
    ...DEFAULT_CONFIG,
    enrichment: "pep" as const,
    logLevel: "silent" as const,
    eventTime: "request" as const,
  };
  const app = buildApp({ runtime, config, logger: false, processMetrics: false, plugins: [] });
  await app.ready();
  try {
    for (const step of caseSteps(tc)) {
      const res = await app.inject({ method: "POST", url: "/v1/decide", payload: step.request });
      if (res.statusCode !== 200) return [`POST /v1/decide answered ${res.statusCode}: ${res.body}`];
      const d = res.json() as NativeDecision;
      if (step.outcome && isControlPath(d.control_path) && outcomeApplies(step.outcome, d.control_path)) {
        const o = await app.inject({
          method: "POST",
          url: `/v1/decisions/${d.decision_id}/outcome`,
          payload: { outcome: step.outcome },
        });
        if (o.statusCode !== 204) return [`outcome answered ${o.statusCode}: ${o.body}`];
      }
      if (step.expect) {
        const comparable: ComparableDecision = {
          controlPath: d.control_path,
          decision: d.decision,
          segment: d.segment,
          reasons: d.reasons,
          findings: d.findings,
        };
        return compareDecision(comparable, step.expect);
      }
    }
    return ["the case has no request under test"];
  } finally {
    await app.close();
    await runtime.close();
  }
}

describe("golden cases over HTTP", () => {
  it("exist", () => expect(FILES.length).toBeGreaterThan(0));
  for (const name of FILES) {
    describe(name, async () => {
      const suite = await loadTestFile(DIR + name);
      const policy = await loadPolicy(suite.policy ?? DEFAULT_POLICY_FILE);
      for (const tc of suite.cases.filter((c) => (c.failDetectors ?? []).length === 0)) {
        it(tc.name, async () => {
          expect(await runOverHttp(policy, tc), `${name}:${tc.line}`).toEqual([]);
        });
      }
    });
  }
});
