import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/engine/engine.js";
import type { StateStore } from "../../src/state/port.js";
import { ALICE_READ, BOB_WRITE, type TestApp, testApp } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => {
  await t.close();
});

describe("health and readiness", () => {
  it("reports healthy with the active policy", async () => {
    const res = await t.app.inject({ method: "GET", url: "/healthz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok", policy: { id: "authzen-certification", revision: expect.any(String) } });
  });

  it("reports ready when state and audit answer, and 503 naming the store that does not", async () => {
    const ready = await t.app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: "ready", state: "ok", audit: "ok" });

    const broken = await testApp({
      wrap: (engine): Engine => {
        const state: StateStore = {
          ...engine.state,
          kind: engine.state.kind,
          read: () => Promise.reject(new Error("down")),
        };
        return Object.assign(Object.create(Object.getPrototypeOf(engine)), engine, { state });
      },
    });
    try {
      const res = await broken.app.inject({ method: "GET", url: "/readyz" });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: "not_ready", state: "unreachable", audit: "ok" });
    } finally {
      await broken.close();
    }
  });
});

describe("GET /metrics", () => {
  it("exposes decisions, latency and HTTP counts in Prometheus text format", async () => {
    await t.app.inject({ method: "POST", url: "/access/v1/evaluation", payload: ALICE_READ });
    await t.app.inject({ method: "POST", url: "/access/v1/evaluation", payload: BOB_WRITE });
    await t.app.inject({ method: "POST", url: "/access/v1/evaluation", payload: {} });
    const res = await t.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(/signalbox_decisions_total\{control_path="allow",segment="records"\} [1-9]/);
    expect(text).toMatch(/signalbox_decisions_total\{control_path="deny",segment="records"\} [1-9]/);
    expect(text).toMatch(/signalbox_decision_duration_seconds_count [1-9]/);
    expect(text).toMatch(
      /signalbox_http_requests_total\{route="\/access\/v1\/evaluation",method="POST",status="400"\} [1-9]/,
    );
    expect(text).toContain("# TYPE signalbox_detector_errors_total counter");
    expect(text).toContain("# TYPE signalbox_state_errors_total counter");
    expect(text).toMatch(/signalbox_audit_queue_depth \d+/);
    expect(text).toMatch(/signalbox_policy_info\{id="authzen-certification",revision="[^"]+"\} 1/);
  });

  it("keeps one registry per app, so two apps do not share counts", async () => {
    const other = await testApp();
    try {
      const res = await other.app.inject({ method: "GET", url: "/metrics" });
      expect(res.body).not.toMatch(/signalbox_decisions_total\{/);
    } finally {
      await other.close();
    }
  });
});

describe("OpenAPI", () => {
  it("serves an OpenAPI 3.1 document covering every face", async () => {
    const res = await t.app.inject({ method: "GET", url: "/openapi.json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/access/v1/evaluation",
      "/access/v1/evaluations",
      "/.well-known/authzen-configuration",
      "/v1/decide",
      "/v1/decisions/{id}",
      "/v1/decisions/{id}/outcome",
      "/healthz",
      "/readyz",
      "/metrics",
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.paths["/access/v1/evaluation"].post.requestBody.content["application/json"].schema.required).toEqual([
      "subject",
      "action",
      "resource",
    ]);
  });

  it("renders the docs at /docs", async () => {
    const res = await t.app.inject({ method: "GET", url: "/docs/" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
  });
});

describe("unknown routes", () => {
  it("answer 404 as a problem, with the request id", async () => {
    const res = await t.app.inject({ method: "GET", url: "/nope?x=1", headers: { "x-request-id": "r-404" } });
    expect(res.statusCode).toBe(404);
    expect(res.headers["x-request-id"]).toBe("r-404");
    expect(res.json()).toMatchObject({ code: "NOT_FOUND", detail: 'no route GET "/nope"', request_id: "r-404" });
  });
});
