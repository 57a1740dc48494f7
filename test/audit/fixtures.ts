/** Decision entries for audit tests: varied subjects, segments, paths, reasons and times. */

import type { DecisionEntry } from "../../src/audit/port.js";
import { type ControlPath, isPermitted } from "../../src/model/control-path.js";
import type { Decision } from "../../src/model/decision.js";
import type { AccessRequest } from "../../src/model/request.js";

/** 2023-11-14T22:13:20Z: far from any wall clock, so tests never depend on today. */
export const T0 = 1_700_000_000_000;

export interface EntrySpec {
  readonly n: number;
  readonly subject?: string;
  readonly segment?: string;
  readonly path?: ControlPath;
  readonly reasons?: readonly string[];
  readonly time?: number;
  readonly wallTime?: number;
  readonly session?: string;
  readonly shadow?: boolean;
}

export function decisionId(n: number): string {
  return `0190a000-0000-7000-8000-${String(n).padStart(12, "0")}`;
}

export function makeEntry(spec: EntrySpec): DecisionEntry {
  const path = spec.path ?? "allow";
  const time = spec.time ?? T0 + spec.n * 1000;
  const request: AccessRequest = {
    subject: { type: "user", id: spec.subject ?? `u${spec.n % 3}`, properties: { email: `u${spec.n}@example.com` } },
    action: { name: spec.n % 2 === 0 ? "read" : "login" },
    resource: { type: "document", id: `doc-${spec.n}` },
    context: {
      ip: `203.0.113.${spec.n % 250}`,
      session: { id: spec.session ?? `sess-${spec.n}` },
      token: { jti: `jti-${spec.n}`, scope: "a b" },
    },
  };
  const decision: Decision = {
    id: decisionId(spec.n),
    controlPath: path,
    decision: isPermitted(path),
    score: (spec.n * 7) % 100,
    band: "medium",
    segment: spec.segment ?? "workforce",
    reasons: (spec.reasons ?? ["new_device"]).map((code) => ({ code, message: `${code} seen` })),
    findings: [
      {
        detector: "new_device",
        severity: "medium",
        points: 40,
        contribution: 30.5,
        code: "new_device",
        message: "first request from this device",
        evidence: { device: `d-${spec.n}`, seen_devices: 2 },
      },
    ],
    obligations: path === "step_up" ? [{ id: "ob-1", type: "step-up", properties: { acr_values: "urn:mfa" } }] : [],
    matched: [{ id: "ladder-30", kind: "ladder", path }],
    policy: { id: "default", revision: "r7" },
    errors: [],
    time,
    extras: path === "throttle" ? { retry_after: 30 } : {},
    timings: { totalUs: 180 + spec.n, stateUs: 40, detectUs: 90, policyUs: 20 },
  };
  return {
    request,
    decision,
    wallTime: spec.wallTime ?? time + 5,
    engineVersion: "0.1.0-test",
    ...(spec.shadow !== undefined ? { shadow: spec.shadow } : {}),
  };
}
