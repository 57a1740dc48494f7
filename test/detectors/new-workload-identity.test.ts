import { describe, expect, it } from "vitest";
import { newWorkloadIdentityDetector as detector } from "../../src/detectors/new-workload-identity.js";
import type { AccessRequest, WorkloadContext } from "../../src/model/request.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";

const T0 = Date.parse("2026-11-20T10:00:00Z");

function request(workload: WorkloadContext, type = "ci_job"): AccessRequest {
  return {
    subject: { type, id: "deploy-prod" },
    action: { name: "deploy" },
    resource: { type: "cluster", id: "eu-1" },
    context: { workload },
  };
}

async function knownRunner(): Promise<MemoryStateStore> {
  const store = new MemoryStateStore();
  await runStep(detector, store, { request: request({ runner_id: "runner-1", attested: true }), now: T0 });
  return store;
}

describe("new_workload_identity", () => {
  it("flags an unattested new ci runner as high", async () => {
    const store = await knownRunner();
    const r = await runStep(detector, store, { request: request({ runner_id: "runner-x" }), now: T0 + 1000 });
    expect(r.finding?.code).toBe("new_ci_runner");
    expect(r.finding?.severity).toBe("high");
    expect(r.finding?.points).toBe(60);
    expect(r.finding?.evidence).toEqual({
      spiffe_id: null,
      runner_id: "runner-x",
      attested: false,
      known_workloads: 0,
      known_runners: 1,
      new: ["new_ci_runner"],
    });
  });

  it("flags an attested new ci runner as medium", async () => {
    const store = await knownRunner();
    const r = await runStep(detector, store, {
      request: request({ runner_id: "runner-2", attested: true }),
      now: T0 + 1000,
    });
    expect(r.finding?.code).toBe("new_ci_runner");
    expect(r.finding?.severity).toBe("medium");
    expect(r.finding?.points).toBe(30);
  });

  it("flags a new SPIFFE id as new_workload", async () => {
    const store = new MemoryStateStore();
    const svc = (spiffe_id: string) => request({ spiffe_id, attested: true }, "service");
    await runStep(detector, store, { request: svc("spiffe://prod/ns/pay/sa/api"), now: T0 });
    const r = await runStep(detector, store, { request: svc("spiffe://dev/ns/tmp/sa/shell"), now: T0 + 1 });
    expect(r.finding?.code).toBe("new_workload");
    expect(r.finding?.severity).toBe("high");
    expect(r.finding?.evidence.spiffe_id).toBe("spiffe://dev/ns/tmp/sa/shell");
    expect(
      (await runStep(detector, store, { request: svc("spiffe://prod/ns/pay/sa/api"), now: T0 + 2 })).finding,
    ).toBeUndefined();
  });

  it("reports the worse of a new workload and a new runner, listing both", async () => {
    const store = new MemoryStateStore();
    await runStep(detector, store, {
      request: request({ spiffe_id: "spiffe://a", runner_id: "r1", attested: true }),
      now: T0,
    });
    const r = await runStep(detector, store, {
      request: request({ spiffe_id: "spiffe://b", runner_id: "r2" }),
      now: T0 + 1,
    });
    expect(r.finding?.code).toBe("new_ci_runner");
    expect(r.finding?.points).toBe(60);
    expect(r.finding?.evidence.new).toEqual(["new_ci_runner", "new_workload"]);
  });

  it("cold start: silent for an attested first runner, weak first_seen_identity for an unattested one", async () => {
    const attested = await runStep(detector, new MemoryStateStore(), {
      request: request({ runner_id: "r1", attested: true }),
      now: T0,
    });
    expect(attested.finding).toBeUndefined();
    const firstWorkload = await runStep(detector, new MemoryStateStore(), {
      request: request({ spiffe_id: "spiffe://a" }),
      now: T0,
    });
    expect(firstWorkload.finding).toBeUndefined();
    const r = await runStep(detector, new MemoryStateStore(), {
      request: request({ runner_id: "r1", attested: false }),
      now: T0,
    });
    expect(r.finding?.code).toBe("first_seen_identity");
    expect(r.finding?.severity).toBe("low");
    expect(r.finding?.points).toBe(10);
  });

  it("does not learn from an untrusted request", async () => {
    const store = await knownRunner();
    await runStep(detector, store, { request: request({ runner_id: "rogue" }), now: T0 + 1, trusted: false });
    const r = await runStep(detector, store, { request: request({ runner_id: "rogue" }), now: T0 + 2 });
    expect(r.finding?.code).toBe("new_ci_runner");
    expect(
      (await runStep(detector, store, { request: request({ runner_id: "rogue" }), now: T0 + 3 })).finding,
    ).toBeUndefined();
  });

  it("never learns from a failed login", async () => {
    const store = await knownRunner();
    const failed: AccessRequest = { ...request({ runner_id: "rogue" }), action: { name: "login" } };
    failed.context = { ...failed.context, authn: { result: "failure", method: "client_credentials" } };
    const r = await runStep(detector, store, { request: failed, now: T0 + 1 });
    expect(r.finding?.code).toBe("new_ci_runner");
    expect(r.learn).toEqual([]);
  });

  it("does not apply to people or without a workload id or runner", async () => {
    const store = new MemoryStateStore();
    expect((await runStep(detector, store, { request: request({ runner_id: "r" }, "user"), now: T0 })).applies).toBe(
      false,
    );
    expect((await runStep(detector, store, { request: request({ network_segment: "x" }), now: T0 })).applies).toBe(
      false,
    );
    expect(
      (await runStep(detector, store, { request: request({ runner_id: "", spiffe_id: "" }), now: T0 })).applies,
    ).toBe(false);
  });
});
