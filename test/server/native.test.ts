import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAuditTrail } from "../../src/audit/open-audit.js";
import { ALICE_READ, BOB_WRITE, type TestApp, testApp } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => {
  await t.close();
});

async function decide(app: TestApp, body: unknown = ALICE_READ) {
  const res = await app.app.inject({ method: "POST", url: "/v1/decide", payload: body as object });
  expect(res.statusCode).toBe(200);
  return res.json();
}

describe("POST /v1/decide", () => {
  it("returns the full decision with findings, matched rules, policy and timings", async () => {
    const d = await decide(t, BOB_WRITE);
    expect(d).toMatchObject({
      decision: false,
      control_path: "deny",
      segment: "records",
      policy: { id: "authzen-certification" },
    });
    expect(d.decision_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Array.isArray(d.findings)).toBe(true);
    expect(d.matched.length).toBeGreaterThan(0);
    expect(d.matched[0]).toEqual({ id: expect.any(String), kind: expect.any(String), path: "deny" });
    expect(Object.keys(d.timings_us).sort()).toEqual(["detect", "policy", "state", "total"]);
    expect(Number.isNaN(Date.parse(d.time))).toBe(false);
  });

  it("rejects an invalid request with a problem naming the field", async () => {
    const res = await t.app.inject({ method: "POST", url: "/v1/decide", payload: { subject: { type: "user" } } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(["subject.id", "action", "resource"]),
    );
  });
});

describe("GET /v1/decisions/{id}", () => {
  it("reads a decision back from the audit trail with its request and outcomes", async () => {
    const d = await decide(t);
    await t.app.inject({
      method: "POST",
      url: `/v1/decisions/${d.decision_id}/outcome`,
      payload: { outcome: "approved" },
    });
    const res = await t.app.inject({ method: "GET", url: `/v1/decisions/${d.decision_id}` });
    expect(res.statusCode).toBe(200);
    const read = res.json();
    expect(read.decision_id).toBe(d.decision_id);
    expect(read.control_path).toBe("allow");
    expect(read.request.subject).toMatchObject(ALICE_READ.subject);
    expect(read.outcomes).toEqual([{ outcome: "approved", recorded_at: expect.any(String) }]);
  });

  it("answers 404 for an unknown id", async () => {
    const res = await t.app.inject({ method: "GET", url: "/v1/decisions/does-not-exist" });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: "UNKNOWN_DECISION", status: 404 });
    expect(res.json().detail).toContain('"does-not-exist"');
  });
});

describe("POST /v1/decisions/{id}/outcome", () => {
  const outcome = (id: string, payload: unknown) =>
    t.app.inject({ method: "POST", url: `/v1/decisions/${id}/outcome`, payload: payload as object });

  it("records an outcome with 204 and repeats it idempotently", async () => {
    const d = await decide(t);
    const first = await outcome(d.decision_id, { outcome: "step_up_passed" });
    expect(first.statusCode).toBe(204);
    expect(first.body).toBe("");
    expect((await outcome(d.decision_id, { outcome: "step_up_passed" })).statusCode).toBe(204);
  });

  it("answers 409 for an outcome that contradicts an earlier final one", async () => {
    const d = await decide(t);
    expect((await outcome(d.decision_id, { outcome: "false_positive" })).statusCode).toBe(204);
    const res = await outcome(d.decision_id, { outcome: "confirmed_compromise" });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe("OUTCOME_CONFLICT");
  });

  it("answers 404 for an unknown decision", async () => {
    const res = await outcome("01a20000-0000-7000-8000-000000000000", { outcome: "approved" });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe("UNKNOWN_DECISION");
  });

  it("answers 400 for an unknown or missing outcome", async () => {
    const d = await decide(t);
    const unknown = await outcome(d.decision_id, { outcome: "maybe" });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: "UNKNOWN_OUTCOME", errors: [{ path: "outcome" }] });
    expect(unknown.json().detail).toContain('"maybe"');
    const missing = await outcome(d.decision_id, {});
    expect(missing.statusCode).toBe(400);
    expect(missing.json().code).toBe("UNKNOWN_OUTCOME");
  });

  it("counts outcomes in the metrics", async () => {
    const d = await decide(t);
    await outcome(d.decision_id, { outcome: "rejected" });
    const metrics = await t.app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toMatch(/signalbox_outcomes_total\{outcome="rejected"\} [1-9]/);
  });
});

describe("GET /v1/decisions (audit query)", () => {
  it("is absent when the audit trail cannot be queried (in-memory trail)", async () => {
    const res = await t.app.inject({ method: "GET", url: "/v1/decisions" });
    expect(res.statusCode).toBe(404);
  });

  it("filters by control path and pages with a cursor over a SQLite trail", async () => {
    const dir = mkdtempSync(join(tmpdir(), "signalbox-server-"));
    const audit = await openAuditTrail(undefined, dir);
    const sq = await testApp({ audit });
    try {
      for (let i = 0; i < 3; i++) await decide(sq, BOB_WRITE);
      await decide(sq, ALICE_READ);
      const first = await sq.app.inject({ method: "GET", url: "/v1/decisions?control_path=deny&limit=2" });
      expect(first.statusCode).toBe(200);
      const page1 = first.json();
      expect(page1.records).toHaveLength(2);
      expect(typeof page1.next).toBe("string");
      const second = await sq.app.inject({
        method: "GET",
        url: `/v1/decisions?control_path=deny&limit=2&cursor=${encodeURIComponent(page1.next)}`,
      });
      expect(second.json().records).toHaveLength(1);
      const bad = await sq.app.inject({ method: "GET", url: "/v1/decisions?control_path=maybe&limit=0" });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(["control_path", "limit"]);
    } finally {
      await sq.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
