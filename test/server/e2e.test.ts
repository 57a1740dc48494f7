import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningService, startService } from "../../src/runtime/start-service.js";
import { REPO_ROOT, testConfig } from "./support.js";

let dir: string;
let service: RunningService;
let policyFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "signalbox-e2e-"));
  const example = join(REPO_ROOT, "examples/authzen-certification");
  policyFile = join(dir, "policy.yaml");
  copyFileSync(join(example, "policy.yaml"), policyFile);
  copyFileSync(join(example, "cert-entities.yaml"), join(dir, "cert-entities.yaml"));
  // default state and audit: SQLite files under the data directory
  service = await startService(
    testConfig({ port: 0, dataDir: dir, policy: policyFile, apiKeys: [{ right: "admin", key: "e2e-admin-key-0001" }] }),
    { watch: false },
  );
});

afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

const auth = { authorization: "Bearer e2e-admin-key-0001" };

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

describe("the service over a real socket", () => {
  it("listens on a loopback URL and is healthy and ready", async () => {
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await call("GET", "/healthz")).status).toBe(200);
    expect((await call("GET", "/readyz")).json()).toEqual({ status: "ready", state: "ok", audit: "ok" });
  });

  it("answers AuthZEN evaluations and batches, echoing X-Request-ID", async () => {
    const single = await call(
      "POST",
      "/access/v1/evaluation",
      {
        subject: { type: "user", id: "alice" },
        action: { name: "read" },
        resource: { type: "record", id: "record-1" },
      },
      { "x-request-id": "e2e-1" },
    );
    expect(single.status).toBe(200);
    expect(single.headers.get("x-request-id")).toBe("e2e-1");
    expect(single.json().decision).toBe(true);
    const batch = await call(
      "POST",
      "/access/v1/evaluations",
      {
        subject: { type: "user", id: "bob" },
        resource: { type: "record", id: "record-1" },
        evaluations: [{ action: { name: "read" } }, { action: { name: "write" } }],
      },
      { prefer: "return=minimal" },
    );
    expect(batch.text).toBe('{"evaluations":[{"decision":true},{"decision":false}]}');
    const meta = await call("GET", "/.well-known/authzen-configuration");
    expect(meta.json().policy_decision_point).toBe(service.url);
  });

  it("decides natively, reads the decision back from the SQLite audit trail and records an outcome", async () => {
    const decided = await call("POST", "/v1/decide", {
      subject: { type: "user", id: "bob" },
      action: { name: "write" },
      resource: { type: "record", id: "record-1" },
    });
    expect(decided.status).toBe(200);
    const id = decided.json().decision_id;
    expect(decided.json().control_path).toBe("deny");

    expect((await call("POST", `/v1/decisions/${id}/outcome`, { outcome: "rejected" })).status).toBe(204);
    expect((await call("POST", `/v1/decisions/${id}/outcome`, { outcome: "false_positive" })).status).toBe(409);

    const read = await call("GET", `/v1/decisions/${id}`);
    expect(read.status).toBe(200);
    expect(read.json().control_path).toBe("deny");
    expect(read.json().outcomes.map((o: { outcome: string }) => o.outcome)).toEqual(["rejected"]);

    const list = await call("GET", "/v1/decisions?control_path=deny");
    expect(list.json().records.some((r: { decision_id?: string }) => JSON.stringify(r).includes(id))).toBe(true);
  });

  it("refuses calls without the key", async () => {
    const res = await fetch(`${service.url}/v1/decide`, { method: "POST", headers: { authorization: "undefined" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("reloads a changed policy, and keeps the active one when the new file is broken", async () => {
    const before = service.runtime.engine.policy.revision;
    const text = readFileSync(policyFile, "utf8");
    writeFileSync(policyFile, text.replace(/revision: "[^"]*"/, 'revision: "e2e-reloaded"'));
    const ok = await service.runtime.reloadPolicy();
    expect(ok).toEqual({ ok: true, id: "authzen-certification", revision: "e2e-reloaded" });
    expect(service.runtime.engine.policy.revision).not.toBe(before);

    writeFileSync(policyFile, "signalbox: policy/v1\nsegments: [");
    const bad = await service.runtime.reloadPolicy();
    expect(bad.ok).toBe(false);
    expect(service.runtime.engine.policy.revision).toBe("e2e-reloaded");
    const still = await call("POST", "/access/v1/evaluation", {
      subject: { type: "user", id: "alice" },
      action: { name: "read" },
      resource: { type: "record", id: "record-1" },
    });
    expect(still.json().decision).toBe(true);
  });
});
