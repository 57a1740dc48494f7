import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryAuditTrail } from "../../src/audit/memory.js";
import { REPO_ROOT, type TestApp, testApp } from "./support.js";

const SEARCH_POLICY = resolve(REPO_ROOT, "examples/authzen-search/policy.yaml");
const TODO_POLICY = resolve(REPO_ROOT, "examples/authzen-todo/policy.yaml");

type Json = Record<string, unknown>;

async function search(t: TestApp, kind: string, payload: unknown, headers: Record<string, string> = {}) {
  const res = await t.app.inject({
    method: "POST",
    url: `/access/v1/search/${kind}`,
    payload: payload as Json,
    headers,
  });
  return { status: res.statusCode, headers: res.headers, body: res.json() as Json };
}

/** What `/access/v1/evaluation` says for one request: the truth search results must agree with. */
async function evaluate(t: TestApp, request: unknown): Promise<boolean> {
  const res = await t.app.inject({ method: "POST", url: "/access/v1/evaluation", payload: request as Json });
  return (res.json() as { decision: boolean }).decision;
}

const RECORD_101_VIEW = {
  subject: { type: "user" },
  action: { name: "view" },
  resource: { type: "record", id: "101" },
};

describe("AuthZEN search over the search example policy", () => {
  let t: TestApp;
  let audit: MemoryAuditTrail;
  beforeAll(async () => {
    audit = new MemoryAuditTrail();
    t = await testApp({ policyFile: SEARCH_POLICY, audit });
  });
  afterAll(async () => t.close());

  it("returns exactly the users an evaluation allows, as string ids in id order, and nothing else", async () => {
    const res = await search(t, "subject", RECORD_101_VIEW);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(Object.keys(res.body)).toEqual(["results"]);
    const users = Object.keys(t.engine.policy.entities.users as Json);
    const allowed: Json[] = [];
    for (const id of [...users].sort()) {
      const request = { ...RECORD_101_VIEW, subject: { type: "user", id } };
      if (await evaluate(t, request)) allowed.push({ type: "user", id });
    }
    expect(allowed.length).toBeGreaterThan(0);
    expect(allowed.length).toBeLessThan(users.length);
    expect(res.body.results).toEqual(allowed);
  });

  it("answers resource and action searches from the same decisions", async () => {
    const res = await search(t, "resource", {
      subject: { type: "user", id: "erin" },
      action: { name: "edit" },
      resource: { type: "record" },
    });
    const records = Object.keys(t.engine.policy.entities.records as Json).sort();
    const allowed: Json[] = [];
    for (const id of records) {
      const request = {
        subject: { type: "user", id: "erin" },
        action: { name: "edit" },
        resource: { type: "record", id },
      };
      if (await evaluate(t, request)) allowed.push({ type: "record", id });
    }
    expect(res.body.results).toEqual(allowed);
    // erin (an employee) edits only what she owns
    const owned = records.filter(
      (id) => (t.engine.policy.entities.records as Record<string, Json>)[id]?.owner === "erin",
    );
    expect(allowed.map((r) => r.id)).toEqual(owned);

    const actions = await search(t, "action", {
      subject: { type: "user", id: "bob" },
      resource: { type: "record", id: "101" },
    });
    expect(actions.status).toBe(200);
    expect(actions.body.results).toEqual([{ name: "view" }]);
  });

  it("ignores the searched-for id and an action member in action search", async () => {
    const plain = await search(t, "subject", RECORD_101_VIEW);
    const withId = await search(t, "subject", { ...RECORD_101_VIEW, subject: { type: "user", id: "felix" } });
    expect(withId.body).toEqual(plain.body);
    const actions = await search(t, "action", {
      subject: { type: "user", id: "alice" },
      action: { name: "delete" },
      resource: { type: "record", id: "101" },
    });
    expect(actions.body.results).toEqual([{ name: "view" }, { name: "edit" }, { name: "delete" }]);
  });

  it("answers an unknown type, an unknown id or an unknown action with empty results, not an error", async () => {
    for (const [kind, body] of [
      ["subject", { ...RECORD_101_VIEW, subject: { type: "spaceship" } }],
      ["subject", { ...RECORD_101_VIEW, resource: { type: "record", id: "999" } }],
      ["subject", { ...RECORD_101_VIEW, action: { name: "launch" } }],
      ["resource", { subject: { type: "user", id: "zed" }, action: { name: "view" }, resource: { type: "record" } }],
      ["action", { subject: { type: "user", id: "alice" }, resource: { type: "document", id: "101" } }],
    ] as const) {
      const res = await search(t, kind, body);
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(res.body, JSON.stringify(body)).toEqual({ results: [] });
    }
  });

  it("decides every candidate through the engine, so each one is audited", async () => {
    const before = audit.decisions.size;
    await search(t, "subject", RECORD_101_VIEW);
    const users = Object.keys(t.engine.policy.entities.users as Json).length;
    expect(audit.decisions.size - before).toBe(users);
  });

  it("pages with opaque tokens: the pages add up to the whole answer and the last says next_token ''", async () => {
    const whole = (await search(t, "subject", RECORD_101_VIEW)).body.results as Json[];
    expect(whole.length).toBeGreaterThan(2);
    const seen: Json[] = [];
    let token: string | undefined;
    for (let n = 0; n < 10; n++) {
      const page = token === undefined ? { limit: 2 } : { limit: 2, token };
      const res = await search(t, "subject", { ...RECORD_101_VIEW, page });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(["page", "results"]);
      const results = res.body.results as Json[];
      expect(results.length).toBeLessThanOrEqual(2);
      seen.push(...results);
      const next = (res.body.page as { next_token: string }).next_token;
      if (next === "") break;
      expect(results).toHaveLength(2);
      expect(next).not.toBe(token);
      token = next;
    }
    expect(seen).toEqual(whole);
  });

  it("names more pages even when no page was asked for only if a limit cut the answer", async () => {
    const asked = await search(t, "subject", { ...RECORD_101_VIEW, page: {} });
    expect(asked.body.page).toEqual({ next_token: "" });
    const zero = await search(t, "subject", { ...RECORD_101_VIEW, page: { limit: 0 } });
    expect(zero.body.results).toEqual((await search(t, "subject", RECORD_101_VIEW)).body.results);
  });

  it("refuses a token reused with any other member changed, and a token it never issued", async () => {
    const first = await search(t, "subject", { ...RECORD_101_VIEW, page: { limit: 1 } });
    const token = (first.body.page as { next_token: string }).next_token;
    expect(token).not.toBe("");
    const changed = await search(t, "subject", {
      ...RECORD_101_VIEW,
      action: { name: "edit" },
      page: { limit: 1, token },
    });
    expect(changed.status).toBe(400);
    expect(changed.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(changed.body.code).toBe("INVALID_REQUEST");
    expect(changed.body.errors).toEqual([expect.objectContaining({ path: "page.token" })]);
    const otherEndpoint = await search(t, "resource", {
      subject: { type: "user", id: "alice" },
      action: { name: "view" },
      resource: { type: "record" },
      page: { token },
    });
    expect(otherEndpoint.status).toBe(400);
    // the searched-for id is ignored, so changing it keeps the token valid
    const ignored = await search(t, "subject", {
      ...RECORD_101_VIEW,
      subject: { type: "user", id: "anyone" },
      page: { limit: 1, token },
    });
    expect(ignored.status).toBe(200);
    expect(ignored.body.results).not.toEqual(first.body.results);
    const forged = await search(t, "subject", { ...RECORD_101_VIEW, page: { token: "not-a-token" } });
    expect(forged.status).toBe(400);
    expect(forged.body.detail).toContain('"not-a-token"');
  });

  it("answers 400 problems naming the missing or ill-typed member for each endpoint", async () => {
    const cases: [string, unknown, string][] = [
      ["subject", { subject: { type: "user" }, resource: { type: "record", id: "101" } }, "action"],
      ["subject", { subject: { type: "user" }, action: { name: "view" }, resource: { type: "record" } }, "resource.id"],
      ["subject", { subject: {}, action: { name: "view" }, resource: { type: "record", id: "101" } }, "subject.type"],
      ["resource", { action: { name: "view" }, resource: { type: "record" } }, "subject"],
      ["resource", { subject: { type: "user" }, action: { name: "view" }, resource: { type: "record" } }, "subject.id"],
      [
        "resource",
        { subject: { type: "user", id: "alice" }, action: { name: 3 }, resource: { type: "record" } },
        "action.name",
      ],
      ["action", { subject: { type: "user", id: "alice" } }, "resource"],
      ["action", { subject: { type: "user" }, resource: { type: "record", id: "101" } }, "subject.id"],
      ["action", { subject: { type: "user", id: "a" }, resource: { type: "record", id: "1" }, context: [] }, "context"],
      ["subject", { ...RECORD_101_VIEW, page: { limit: -1 } }, "page.limit"],
      ["subject", { ...RECORD_101_VIEW, page: { limit: 1.5 } }, "page.limit"],
      ["subject", { ...RECORD_101_VIEW, page: { token: 7 } }, "page.token"],
      ["subject", { ...RECORD_101_VIEW, page: "next" }, "page"],
      ["resource", [], ""],
    ];
    for (const [kind, body, path] of cases) {
      const res = await search(t, kind, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe("INVALID_REQUEST");
      expect(res.body.errors, JSON.stringify(body)).toEqual([expect.objectContaining({ path })]);
    }
  });

  it("echoes X-Request-ID", async () => {
    const res = await search(
      t,
      "action",
      { subject: { type: "user", id: "alice" }, resource: { type: "record", id: "101" } },
      {
        "x-request-id": "req-search-7",
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers["x-request-id"]).toBe("req-search-7");
  });
});

describe("AuthZEN search: candidates' properties, policies without search, API keys", () => {
  it("gives candidates the properties their collection declares (the certification fixture's admin bob)", async () => {
    const t = await testApp();
    try {
      const res = await search(t, "subject", {
        subject: { type: "user" },
        action: { name: "write" },
        resource: { type: "record", id: "record-2", properties: { status: "archived" } },
      });
      expect(res.body.results).toEqual([{ type: "user", id: "bob" }]);
      // an input subject is taken as sent: without the role, bob may not write an archived record
      const actions = await search(t, "action", {
        subject: { type: "user", id: "bob" },
        resource: { type: "record", id: "record-2", properties: { status: "archived" } },
      });
      expect(actions.body.results).toEqual([{ name: "read" }]);
      // an unknown input id finds nothing, although this policy lets anyone read
      const unknown = await search(t, "action", {
        subject: { type: "user", id: "nonexistent-user" },
        resource: { type: "record", id: "record-1" },
      });
      expect(unknown.body).toEqual({ results: [] });
    } finally {
      await t.close();
    }
  });

  it("answers empty results when the policy has no search section", async () => {
    const t = await testApp({ policyFile: TODO_POLICY });
    try {
      const res = await search(t, "action", {
        subject: { type: "user", id: "rick@the-citadel.com" },
        resource: { type: "todo", id: "todo-1" },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ results: [] });
    } finally {
      await t.close();
    }
  });

  it("needs a decide key when API keys are configured", async () => {
    const key = "search-key-0123456789";
    const t = await testApp({ config: { apiKeys: [{ right: "decide", key }] } });
    try {
      const body = { subject: { type: "user", id: "alice" }, resource: { type: "record", id: "record-1" } };
      expect((await search(t, "action", body)).status).toBe(401);
      expect((await search(t, "action", body, { authorization: "Bearer wrong-key-0123456789" })).status).toBe(401);
      const ok = await search(t, "action", body, { authorization: `Bearer ${key}` });
      expect(ok.status).toBe(200);
      expect(ok.body.results).toEqual([{ name: "read" }, { name: "write" }]);
    } finally {
      await t.close();
    }
  });
});
