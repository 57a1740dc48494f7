/** OCSF export: required fields of API Activity 6003 and Detection Finding 2004, and the path mapping. */

import { describe, expect, it } from "vitest";
import { chainRecord, EMPTY_HEAD } from "../../src/audit/chain.js";
import { apiActivityEvent, detectionFindingEvents, securityControlOf } from "../../src/audit/ocsf.js";
import { ocsfEventsOf } from "../../src/audit/ocsf-export.js";
import {
  type DecisionAuditRecord,
  decisionRecord,
  type OutcomeAuditRecord,
  outcomeRecord,
} from "../../src/audit/record.js";
import { CONTROL_PATHS, type ControlPath } from "../../src/model/control-path.js";
import type { Outcome } from "../../src/model/outcome.js";
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

  it("exports a decision, and nothing for an outcome whose decision is gone", () => {
    expect(ocsfEventsOf(record("allow"))).toHaveLength(2);
    expect(ocsfEventsOf(outcomeOf("approved", record("hold")), undefined)).toEqual([]);
  });
});

describe("OCSF Authorize Session 3003", () => {
  it("follows a narrowed scope with the privileges granted", () => {
    const r = {
      ...record("narrow_scope", 3),
      obligations: [
        {
          id: "ob-1",
          type: "custom" as const,
          properties: { vendor: "signalbox", action: "narrow_scope", scope: "read list" },
        },
      ],
    };
    const events = ocsfEventsOf(r) as JsonObject[];
    expect(events.map((e) => e.class_uid)).toEqual([6003, 3003, 2004]);
    const e = events[1] as JsonObject;
    expectBaseEvent(e, 3003, 3);
    expect(e).toMatchObject({ activity_id: 1, activity_name: "Assign Privileges", status_id: 1 });
    expect(obj(e.user)).toMatchObject({ uid: "u0", type: "user" });
    expect(e.privileges).toEqual(["read", "list"]);
    expect(e.session).toEqual({ uid: "sess-3" });
    expect(obj(e.metadata).correlation_uid).toBe(r.decision_id);
  });

  it("follows a limited session with its expiry and read-only grant", () => {
    const r = {
      ...record("limit_session", 4),
      obligations: [
        {
          id: "ob-1",
          type: "custom" as const,
          properties: { vendor: "signalbox", action: "limit_session", max_session_seconds: 900, read_only: true },
        },
      ],
    };
    const e = (ocsfEventsOf(r) as JsonObject[]).find((x) => x.class_uid === 3003) as JsonObject;
    expect(e.session).toEqual({ uid: "sess-4", expiration_time: T0 + 4000 + 900_000 });
    expect(e.privileges).toEqual(["read_only"]);
  });

  it("is not emitted for other paths", () => {
    for (const path of ["allow", "step_up", "deny"] as const) {
      expect(
        (ocsfEventsOf(record(path)) as JsonObject[]).some((e) => e.class_uid === 3003),
        path,
      ).toBe(false);
    }
  });
});

function outcomeOf(outcome: Outcome, decision: DecisionAuditRecord): OutcomeAuditRecord {
  const r = chainRecord(
    outcomeRecord({ decisionId: decision.decision_id ?? "", outcome, wallTime: T0 + 60_000 }),
    "w",
    { seq: decision.seq, hash: decision.hash },
  );
  if (r.kind !== "outcome") throw new Error("expected an outcome");
  return r;
}

/** What every outcome event carries: the decision it answers, and its own place in the trail. */
function expectOutcomeLinks(e: JsonObject, outcome: OutcomeAuditRecord): void {
  const meta = obj(e.metadata);
  expect(meta.correlation_uid).toBe(outcome.decision_id);
  expect(meta.uid).toBe(`w/${outcome.seq}`);
  expect(e.time).toBe(T0 + 60_000);
  expect(obj(e.unmapped).outcome).toBe(outcome.outcome);
}

describe("OCSF events of outcomes", () => {
  it("maps a person's step-up result to Authentication 3002 with MFA, Success or Failure", () => {
    const decision = record("step_up", 4);
    for (const [outcome, status, statusName] of [
      ["step_up_passed", 1, "Success"],
      ["step_up_failed", 2, "Failure"],
    ] as const) {
      const o = outcomeOf(outcome, decision);
      const [e, ...more] = ocsfEventsOf(o, decision) as [JsonObject];
      expect(more).toEqual([]);
      expectBaseEvent(e, 3002, 3);
      expectOutcomeLinks(e, o);
      expect(e).toMatchObject({ activity_id: 1, activity_name: "Logon", type_uid: 300201, status_id: status });
      expect(e.status).toBe(statusName);
      expect(e.is_mfa).toBe(true);
      // Authentication requires `user`, with at least one of account, name or uid.
      expect(obj(e.user)).toMatchObject({ uid: "u1", type: "user" });
      expect(obj(e.src_endpoint).ip).toBe("203.0.113.4");
    }
  });

  it("marks a machine's step-up (a token re-issuance, no AuthZEN step-up obligation) as not MFA", () => {
    const decision = { ...record("step_up", 4), obligations: [] };
    const [e] = ocsfEventsOf(outcomeOf("step_up_passed", decision), decision) as [JsonObject];
    expect(e.is_mfa).toBe(false);
  });

  it("maps a hold's approval to API Activity 6003, Approved or Rejected", () => {
    const decision = record("hold", 5);
    for (const [outcome, action, disposition, name] of [
      ["approved", 1, 8, "Approved"],
      ["rejected", 2, 25, "Rejected"],
    ] as const) {
      const o = outcomeOf(outcome, decision);
      const [e, ...more] = ocsfEventsOf(o, decision) as [JsonObject];
      expect(more).toEqual([]);
      expectBaseEvent(e, 6003, 6);
      expectOutcomeLinks(e, o);
      expect(e).toMatchObject({ action_id: action, disposition_id: disposition, disposition: name });
      expect(obj(e.api).operation).toBe("access.approval");
      expect(obj(e.metadata).profiles).toEqual(["security_control"]);
      // API Activity's required actor and src_endpoint come from the decision's request.
      expect(obj(obj(e.actor).user).uid).toBe("u2");
      expect(obj(e.src_endpoint).ip).toBe("203.0.113.5");
    }
  });

  it("closes each finding of a false positive as Resolved", () => {
    const decision = record("deny", 6);
    const o = outcomeOf("false_positive", decision);
    const events = ocsfEventsOf(o, decision) as JsonObject[];
    expect(events).toHaveLength(decision.findings.length);
    const e = events[0] as JsonObject;
    expectBaseEvent(e, 2004, 2);
    expectOutcomeLinks(e, o);
    expect(e).toMatchObject({
      activity_id: 3,
      activity_name: "Close",
      status_id: 4,
      status: "Resolved",
      is_alert: false,
    });
    // The same finding as when the decision created it.
    expect(obj(e.finding_info).uid).toBe(`${decision.decision_id}/0`);
    expect(obj(e.unmapped).verdict).toBe("false_positive");
  });

  it("raises each finding of a confirmed compromise as a critical alert, or one of its own when none flagged it", () => {
    const flagged = record("deny", 7);
    const [e] = ocsfEventsOf(outcomeOf("confirmed_compromise", flagged), flagged) as [JsonObject];
    expectBaseEvent(e, 2004, 2);
    expect(e).toMatchObject({ activity_id: 2, activity_name: "Update", severity_id: 5, is_alert: true, status_id: 2 });
    expect(obj(e.finding_info).uid).toBe(`${flagged.decision_id}/0`);
    expect(obj(e.unmapped).verdict).toBe("true_positive");

    const missed = { ...record("allow", 8), findings: [] };
    const o = outcomeOf("confirmed_compromise", missed);
    const [own, ...more] = ocsfEventsOf(o, missed) as [JsonObject];
    expect(more).toEqual([]);
    expectBaseEvent(own, 2004, 2);
    expectOutcomeLinks(own, o);
    expect(own).toMatchObject({ activity_id: 2, severity_id: 5, is_alert: true });
    expect(obj(own.finding_info).types).toEqual(["confirmed_compromise"]);
    expect(String(own.message)).toContain("through a decision no finding flagged");
  });
});
