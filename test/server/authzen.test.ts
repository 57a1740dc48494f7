import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE_READ, BOB_WRITE, type TestApp, testApp } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => {
  await t.close();
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: "POST", url, payload: payload as object, headers });

describe("POST /access/v1/evaluation", () => {
  it("permits with Signalbox's answer in context", async () => {
    const res = await post("/access/v1/evaluation", ALICE_READ);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.decision).toBe(true);
    expect(body.context.control_path).toBe("allow");
    expect(body.context.decision_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.context.risk).toEqual({ score: expect.any(Number), band: expect.any(String) });
    expect(body.context.segment).toBe("records");
    expect(Array.isArray(body.context.reasons)).toBe(true);
    expect(Array.isArray(body.context.obligations)).toBe(true);
    expect(res.headers["signalbox-decision-id"]).toBe(body.context.decision_id);
  });

  it("answers a deny as 200 with decision false", async () => {
    const res = await post("/access/v1/evaluation", BOB_WRITE);
    expect(res.statusCode).toBe(200);
    expect(res.json().decision).toBe(false);
    expect(res.json().context.control_path).toBe("deny");
  });

  it("ignores unknown members", async () => {
    const res = await post("/access/v1/evaluation", {
      ...ALICE_READ,
      subject: { ...ALICE_READ.subject, _note: "x" },
      foo: "bar",
      futureField: { nested: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().decision).toBe(true);
  });

  it("answers exactly {decision} with Prefer: return=minimal", async () => {
    const res = await post("/access/v1/evaluation", ALICE_READ, { prefer: "return=minimal" });
    expect(res.body).toBe('{"decision":true}');
  });

  it("echoes X-Request-ID, and makes one up when none is sent", async () => {
    const res = await post("/access/v1/evaluation", ALICE_READ, { "x-request-id": "bfe9eb29-ab87-4ca3" });
    expect(res.headers["x-request-id"]).toBe("bfe9eb29-ab87-4ca3");
    const bad = await post("/access/v1/evaluation", {}, { "x-request-id": "err-42" });
    expect(bad.headers["x-request-id"]).toBe("err-42");
    const none = await post("/access/v1/evaluation", ALICE_READ);
    expect(typeof none.headers["x-request-id"]).toBe("string");
    expect(String(none.headers["x-request-id"]).length).toBeGreaterThan(0);
  });

  it("accepts a literal 'Authorization: undefined' when no keys are configured", async () => {
    const res = await post("/access/v1/evaluation", ALICE_READ, { authorization: "undefined" });
    expect(res.statusCode).toBe(200);
    expect(res.json().decision).toBe(true);
  });

  const invalid: [string, unknown, string][] = [
    ["missing subject", { action: ALICE_READ.action, resource: ALICE_READ.resource }, "subject"],
    ["missing action", { subject: ALICE_READ.subject, resource: ALICE_READ.resource }, "action"],
    ["missing resource", { subject: ALICE_READ.subject, action: ALICE_READ.action }, "resource"],
    ["subject without type", { ...ALICE_READ, subject: { id: "alice" } }, "subject.type"],
    ["subject without id", { ...ALICE_READ, subject: { type: "user" } }, "subject.id"],
    ["action without name", { ...ALICE_READ, action: {} }, "action.name"],
    ["resource without type", { ...ALICE_READ, resource: { id: "record-1" } }, "resource.type"],
    ["resource without id", { ...ALICE_READ, resource: { type: "record" } }, "resource.id"],
    ["subject as a string", { ...ALICE_READ, subject: "alice" }, "subject"],
    ["numeric action name", { ...ALICE_READ, action: { name: 123 } }, "action.name"],
    ["context as an array", { ...ALICE_READ, context: [] }, "context"],
  ];
  for (const [name, body, path] of invalid) {
    it(`rejects ${name} with a 400 problem naming "${path}"`, async () => {
      const res = await post("/access/v1/evaluation", body);
      expect(res.statusCode).toBe(400);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      const problem = res.json();
      expect(problem).toMatchObject({
        status: 400,
        code: "INVALID_REQUEST",
        type: "urn:signalbox:error:INVALID_REQUEST",
      });
      expect(problem.errors.map((e: { path: string }) => e.path)).toContain(path);
      expect(res.body).not.toMatch(/at .*\.ts:\d+/);
    });
  }

  it("rejects malformed JSON with 400 INVALID_JSON", async () => {
    const res = await post("/access/v1/evaluation", '{"subject": {"type": "user",', {
      "content-type": "application/json",
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("INVALID_JSON");
  });

  it("rejects an empty body with 400", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/access/v1/evaluation",
      headers: { "content-type": "application/json" },
      payload: "",
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("INVALID_JSON");
    const noType = await t.app.inject({ method: "POST", url: "/access/v1/evaluation" });
    expect(noType.statusCode).toBe(400);
  });

  it("rejects a body that is not application/json with 400 (AuthZEN) and 415 (native)", async () => {
    const body = JSON.stringify(ALICE_READ);
    const authzen = await post("/access/v1/evaluation", body, { "content-type": "text/plain" });
    expect(authzen.statusCode).toBe(400);
    expect(authzen.json().detail).toContain('"text/plain"');
    const native = await post("/v1/decide", body, { "content-type": "application/x-www-form-urlencoded" });
    expect(native.statusCode).toBe(415);
    expect(native.json().code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("accepts application/json with a charset", async () => {
    const res = await post("/access/v1/evaluation", JSON.stringify(ALICE_READ), {
      "content-type": "application/json; charset=utf-8",
    });
    expect(res.statusCode).toBe(200);
  });
});

describe("POST /access/v1/evaluations", () => {
  const decisions = (body: { evaluations: { decision: boolean }[] }) => body.evaluations.map((e) => e.decision);

  it("runs every item in order under execute_all (the default), inheriting top-level members", async () => {
    const res = await post("/access/v1/evaluations", {
      subject: { type: "user", id: "bob" },
      resource: { type: "record", id: "record-1" },
      evaluations: [{ action: { name: "read" } }, { action: { name: "write" } }, { action: { name: "read" } }],
    });
    expect(res.statusCode).toBe(200);
    expect(decisions(res.json())).toEqual([true, false, true]);
    expect(res.json().evaluations[1].context.control_path).toBe("deny");
  });

  it("inherits a default whole: an item's member replaces it without deep merge", async () => {
    const res = await post("/access/v1/evaluations", {
      subject: { type: "user", id: "alice" },
      action: { name: "write" },
      resource: { type: "record", id: "record-1", properties: { status: "active" } },
      evaluations: [{}, { resource: { type: "record", id: "record-2", properties: { status: "archived" } } }],
    });
    expect(decisions(res.json())).toEqual([true, false]);
    // bob (role admin) may write archived records; if the item's subject were merged into the
    // default's properties, alice would not gain or lose anything — so check the other direction
    const whole = await post("/access/v1/evaluations", {
      subject: { type: "user", id: "bob", properties: { role: "admin" } },
      action: { name: "write" },
      resource: { type: "record", id: "record-2", properties: { status: "archived" } },
      evaluations: [{}, { subject: { type: "user", id: "bob" } }],
    });
    expect(decisions(whole.json())).toEqual([true, false]);
  });

  it("stops at the first deny under deny_on_first_deny", async () => {
    const res = await post("/access/v1/evaluations", {
      subject: { type: "user", id: "bob" },
      resource: { type: "record", id: "record-1" },
      options: { evaluations_semantic: "deny_on_first_deny" },
      evaluations: [{ action: { name: "read" } }, { action: { name: "write" } }, { action: { name: "read" } }],
    });
    expect(decisions(res.json())).toEqual([true, false]);
  });

  it("stops at the first permit under permit_on_first_permit", async () => {
    const res = await post("/access/v1/evaluations", {
      subject: { type: "user", id: "bob" },
      resource: { type: "record", id: "record-1" },
      options: { evaluations_semantic: "permit_on_first_permit" },
      evaluations: [{ action: { name: "write" } }, { action: { name: "read" } }, { action: { name: "write" } }],
    });
    expect(decisions(res.json())).toEqual([false, true]);
  });

  it("turns an invalid item into a closed per-item error, still 200", async () => {
    const res = await post("/access/v1/evaluations", {
      subject: { type: "user", id: "alice" },
      action: { name: "read" },
      options: { evaluations_semantic: "execute_all" },
      evaluations: [{ resource: { type: "record", id: "record-1" } }, {}, "not an object"],
    });
    expect(res.statusCode).toBe(200);
    const [ok, missing, notObject] = res.json().evaluations;
    expect(ok.decision).toBe(true);
    expect(missing).toEqual({
      decision: false,
      context: { error: { status: 400, message: expect.stringContaining("resource") } },
    });
    expect(notObject.decision).toBe(false);
    expect(notObject.context.error.status).toBe(400);
  });

  it("answers a single decision when evaluations is absent or empty", async () => {
    for (const body of [ALICE_READ, { ...ALICE_READ, evaluations: [] }]) {
      const res = await post("/access/v1/evaluations", body);
      expect(res.statusCode).toBe(200);
      const json = res.json();
      expect(json.decision).toBe(true);
      expect(json.evaluations).toBeUndefined();
    }
    const incomplete = await post("/access/v1/evaluations", { subject: ALICE_READ.subject, evaluations: [] });
    expect(incomplete.statusCode).toBe(400);
  });

  it("answers exactly {decision} per item in minimal mode, requested by header", async () => {
    const res = await post(
      "/access/v1/evaluations",
      {
        subject: { type: "user", id: "bob" },
        resource: { type: "record", id: "record-1" },
        evaluations: [{ action: { name: "read" } }, { action: { name: "write" } }, {}],
      },
      { prefer: "return=minimal" },
    );
    expect(res.body).toBe('{"evaluations":[{"decision":true},{"decision":false},{"decision":false}]}');
  });

  it("rejects an unknown semantic, a non-array evaluations and a non-object body with 400", async () => {
    const semantic = await post("/access/v1/evaluations", {
      ...ALICE_READ,
      options: { evaluations_semantic: "first_wins" },
      evaluations: [{}],
    });
    expect(semantic.statusCode).toBe(400);
    expect(semantic.json().errors[0].path).toBe("options.evaluations_semantic");
    const notArray = await post("/access/v1/evaluations", { ...ALICE_READ, evaluations: {} });
    expect(notArray.statusCode).toBe(400);
    expect(notArray.json().errors[0].path).toBe("evaluations");
    const array = await post("/access/v1/evaluations", [ALICE_READ]);
    expect(array.statusCode).toBe(400);
  });

  it("reports an engine failure on one item in that item's context", async () => {
    const { SignalboxError } = await import("../../src/errors/signalbox-error.js");
    const failing = await testApp({
      wrap: (engine) => ({
        ...engine,
        policy: engine.policy,
        decide: async (request: unknown) => {
          if ((request as { resource?: { id?: string } }).resource?.id === "broken") {
            throw new SignalboxError("AUDIT_UNAVAILABLE", "audit store did not commit");
          }
          return engine.decide(request);
        },
      }),
    });
    try {
      const res = await failing.app.inject({
        method: "POST",
        url: "/access/v1/evaluations",
        payload: {
          subject: { type: "user", id: "alice" },
          action: { name: "read" },
          evaluations: [
            { resource: { type: "record", id: "record-1" } },
            { resource: { type: "record", id: "broken" } },
          ],
        },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().evaluations[1]).toEqual({
        decision: false,
        context: { error: { status: 503, message: "audit store did not commit" } },
      });
      const single = await failing.app.inject({
        method: "POST",
        url: "/access/v1/evaluation",
        payload: { ...ALICE_READ, resource: { type: "record", id: "broken" } },
      });
      expect(single.statusCode).toBe(503);
      expect(single.json().code).toBe("AUDIT_UNAVAILABLE");
    } finally {
      await failing.close();
    }
  });
});

describe("minimal batch by configuration", () => {
  it("answers {decision} per item without a header, and full context when the caller prefers it", async () => {
    const minimal = await testApp({ config: { minimalBatch: true } });
    try {
      const body = {
        subject: { type: "user", id: "bob" },
        resource: { type: "record", id: "record-1" },
        evaluations: [{ action: { name: "read" } }, { action: { name: "write" } }],
      };
      const res = await minimal.app.inject({ method: "POST", url: "/access/v1/evaluations", payload: body });
      expect(res.body).toBe('{"evaluations":[{"decision":true},{"decision":false}]}');
      const full = await minimal.app.inject({
        method: "POST",
        url: "/access/v1/evaluations",
        payload: body,
        headers: { prefer: "return=representation" },
      });
      expect(full.json().evaluations[0].context.control_path).toBe("allow");
    } finally {
      await minimal.close();
    }
  });
});

describe("GET /.well-known/authzen-configuration", () => {
  it("names the base URL the request came to and the endpoints under it", async () => {
    const res = await t.app.inject({
      method: "GET",
      url: "/.well-known/authzen-configuration",
      headers: { host: "pdp.example.com:8700" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.json()).toEqual({
      policy_decision_point: "http://pdp.example.com:8700",
      access_evaluation_endpoint: "http://pdp.example.com:8700/access/v1/evaluation",
      access_evaluations_endpoint: "http://pdp.example.com:8700/access/v1/evaluations",
      search_subject_endpoint: "http://pdp.example.com:8700/access/v1/search/subject",
      search_resource_endpoint: "http://pdp.example.com:8700/access/v1/search/resource",
      search_action_endpoint: "http://pdp.example.com:8700/access/v1/search/action",
      capabilities: [],
      supported_obligations: ["step-up", "session_termination", "notification", "custom"],
    });
  });
});
