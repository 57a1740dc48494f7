/** The access log through the real app: errors always get a line, successful requests only with `logRequests`. */

import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryAuditTrail } from "../../src/audit/memory.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createEngine } from "../../src/engine/create-engine.js";
import { PEP_ONLY_ENRICHER } from "../../src/enrich/enrichment.js";
import { loadPolicy } from "../../src/policy/load.js";
import { buildApp } from "../../src/server/app.js";
import { ObserverHub, runtimeOf } from "../../src/server/runtime.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { ALICE_READ, CERTIFICATION_POLICY, testConfig } from "./support.js";

interface Line {
  msg?: string;
  route?: string;
  status?: number;
  decision_id?: string;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function appLoggingTo(lines: Line[], logRequests: boolean) {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString("utf8").split("\n")) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  const hub = new ObserverHub();
  const engine = createEngine({
    policy: await loadPolicy(CERTIFICATION_POLICY),
    state: new MemoryStateStore(),
    audit: new MemoryAuditTrail(),
    enricher: PEP_ONLY_ENRICHER,
    observer: hub,
  });
  const runtime = runtimeOf(engine, hub);
  const app = buildApp({
    runtime,
    config: testConfig({ logLevel: "info", logRequests }),
    logger: pino({ level: "info" }, stream),
    processMetrics: false,
  });
  await app.ready();
  closers.push(async () => {
    await app.close();
    await runtime.close();
  });
  return app;
}

const requestLines = (lines: readonly Line[]) => lines.filter((l) => l.msg === "request");

describe("access log", () => {
  it("writes a line for an error and none for a successful decision by default", async () => {
    const lines: Line[] = [];
    const app = await appLoggingTo(lines, false);
    const ok = await app.inject({ method: "POST", url: "/access/v1/evaluation", payload: ALICE_READ });
    expect(ok.statusCode).toBe(200);
    const bad = await app.inject({ method: "POST", url: "/access/v1/evaluation", payload: { subject: {} } });
    expect(bad.statusCode).toBe(400);
    expect(requestLines(lines).map((l) => [l.route, l.status])).toEqual([["/access/v1/evaluation", 400]]);
  });

  it("writes a line with the decision id for every request when asked", async () => {
    const lines: Line[] = [];
    const app = await appLoggingTo(lines, true);
    const ok = await app.inject({ method: "POST", url: "/access/v1/evaluation", payload: ALICE_READ });
    expect(ok.statusCode).toBe(200);
    const logged = requestLines(lines);
    expect(logged).toHaveLength(1);
    expect(logged[0]?.status).toBe(200);
    expect(logged[0]?.decision_id).toBe(ok.headers["signalbox-decision-id"]);
  });

  it("is off unless the flag or the variable turns it on", () => {
    expect(loadConfig({}).logRequests).toBe(false);
    expect(loadConfig({ flags: { logRequests: true } }).logRequests).toBe(true);
    expect(loadConfig({ env: { SIGNALBOX_LOG_REQUESTS: "true" } }).logRequests).toBe(true);
  });
});
