/** OCSF export: required fields of API Activity 6003 and Detection Finding 2004, and the path mapping. */

import { describe, expect, it } from "vitest";
import { chainRecord, EMPTY_HEAD } from "../../src/audit/chain.js";
import { apiActivityEvent, detectionFindingEvents, ocsfEventsOf, securityControlOf } from "../../src/audit/ocsf.js";
import { type DecisionAuditRecord, decisionRecord, outcomeRecord } from "../../src/audit/record.js";
import { CONTROL_PATHS, type ControlPath } from "../../src/model/control-path.js";
import type { JsonObject } from "../../src/model/request.js";
import { makeEntry, T0 } from "./fixtures.js";

function record(path: ControlPath, n = 1): DecisionAuditRecord {
  const r = chainRecord(decisionRecord(makeEntry({ n, path }), { mask: (x) => x }), "w", EMPTY_HEAD);
  if (r.kind !== "decision") throw new Error("expected a decision");
  return r;
}

const obj = (v: unknown): JsonObject => v as JsonObject;

/** The base-event rules every OCSF class shares. */
function expectBaseEvent(e: JsonObject, classUid: number, categoryUid: number): void {
  for (const f of ["activity_id", "category_uid", "class_uid", "type_uid", "severity_id", "time", "metadata"]) {
    expect(e, f).toHaveProperty(f);
  }
  expect(e.class_uid).toBe(classUid);
  expect(e.category_uid).toBe(categoryUid);
  expect(Math.floor(Number(e.class_uid) / 1000)).toBe(e.category_uid);
  expect(e.type_uid).toBe(classUid * 100 + Number(e.activity_id));
  expect([0, 1, 2, 3, 4, 5, 6, 99]).toContain(e.severity_id);
  expect(Number.isInteger(e.time)).toBe(true);
  const meta = obj(e.metadata);
  expect(meta.version).toMatch(/^1\.\d+\.\d+$/);
  expect(obj(meta.product).name).toBe("Signalbox");
  expect(obj(meta.product).version).toBe("0.1.0-test");
}

describe("OCSF API Activity 6003", () => {
  it("carries every required field and the Security Control profile", () => {
    const r = record("step_up", 2);
    const e = apiActivityEvent(r);
    expectBaseEvent(e, 6003, 6);
    expect(e.time).toBe(T0 + 2000); // milliseconds, the decision's event time
    expect(e.activity_id).toBe(2); // action "read"
    expect(obj(e.actor).user).toMatchObject({ uid: "u2", type: "user" });
    expect(obj(e.api).operation).toBe("access.evaluation");
    expect(obj(e.src_endpoint).ip).toBe("203.0.113.2");
    expect(e.resources).toEqual([{ uid: "doc-2", type: "document" }]);
    expect(obj(e.metadata).profiles).toEqual(["security_control"]);
    expect(obj(e.metadata).uid).toBe(r.decision_id);
    expect(e).toMatchObject({ action_id: 2, disposition_id: 99, disposition: "Step-Up Required" });
    expect(e.policy).toEqual({ uid: "default", name: "default", version: "r7", is_applied: true });
    expect(e.risk_score).toBe(r.score);
    expect(e.risk_level_id).toBe(2);
    expect(obj(e.unmapped).control_path).toBe("step_up");
  });

  it("maps every control path as the standards notes suggest", () => {
    const expected: Record<ControlPath, [number, number]> = {
      allow: [1, 1],
      limit_session: [4, 99],
      narrow_scope: [4, 99],
      throttle: [2, 2],
      step_up: [2, 99],
      hold: [2, 99],
      deny: [2, 2],
      quarantine: [2, 24],
    };
    for (const path of CONTROL_PATHS) {
      const c = securityControlOf(path);
      expect([c.action_id, c.disposition_id], path).toEqual(expected[path]);
      // Step-up is not a bot challenge.
      expect(c.disposition_id).not.toBe(23);
    }
  });

  it("keeps a masked address out of src_endpoint.ip", () => {
    const r = {
      ...record("allow"),
      request: { ...record("allow").request, context: { ip: "sha256:0123456789abcdef" } },
    };
    expect(apiActivityEvent(r).src_endpoint).toEqual({ uid: "sha256:0123456789abcdef" });
  });
});

describe("OCSF Detection Finding 2004", () => {
  it("emits one finding per detector finding with finding_info.uid", () => {
    const r = record("deny", 3);
    const events = detectionFindingEvents(r);
    expect(events).toHaveLength(r.findings.length);
    const e = events[0] as JsonObject;
    expectBaseEvent(e, 2004, 2);
    expect(e.activity_id).toBe(1);
    expect(e.severity_id).toBe(3);
    const info = obj(e.finding_info);
    expect(info.uid).toBe(`${r.decision_id}/0`);
    expect(info.title).toBe("first request from this device");
    expect(obj(info.analytic).name).toBe("new_device");
    expect(obj(e.unmapped).evidence).toEqual({ device: "d-3", seen_devices: 2 });
  });

  it("exports decisions only", () => {
    expect(ocsfEventsOf(record("allow"))).toHaveLength(2);
    const outcome = chainRecord(outcomeRecord({ decisionId: "d", outcome: "approved", wallTime: T0 }), "w", EMPTY_HEAD);
    expect(ocsfEventsOf(outcome)).toEqual([]);
  });
});
