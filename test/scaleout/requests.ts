/** Requests for the scale-out tests: one per segment of the default policy, logins, and token use. */

import type { ControlPath } from "../../src/model/control-path.js";

export type Request = Record<string, unknown>;

/** An RFC 3339 time `minutes` after a fixed start, so every run decides on the same event times. */
export function at(minutes: number): string {
  return new Date(Date.parse("2026-11-23T09:00:00Z") + minutes * 60_000).toISOString();
}

export function login(
  user: string,
  ip: string,
  result: "success" | "failure",
  time: string,
  extra: Record<string, unknown> = {},
): Request {
  return {
    subject: { type: "user", id: user },
    action: { name: "login" },
    resource: { type: "application", id: "portal" },
    context: { time, ip, authn: { result, method: "password" }, ...extra },
  };
}

/** A person reading a document with a bearer token (`jti`) from a device. */
export function tokenUse(user: string, jti: string, device: string, ip: string, time: string): Request {
  return {
    subject: { type: "user", id: user },
    action: { name: "read" },
    resource: { type: "document", id: "q3-report" },
    context: { time, ip, device: { id: device }, token: { jti } },
  };
}

export interface SegmentCase {
  readonly segment: string;
  /** What the default policy's `on_error` says for this segment. */
  readonly onError: ControlPath;
  readonly request: (run: string, time: string) => Request;
}

/** One request per segment of the default policy, with the path its `on_error` applies when state is out of reach. */
export const SEGMENT_CASES: readonly SegmentCase[] = [
  {
    segment: "people-login",
    onError: "step_up",
    request: (run, time) => login(`alice-${run}`, "203.0.113.10", "success", time),
  },
  {
    segment: "people-privileged",
    onError: "step_up",
    request: (run, time) => ({
      subject: { type: "user", id: `alice-${run}` },
      action: { name: "secrets.read" },
      resource: { type: "secret", id: "db-password" },
      context: { time, ip: "203.0.113.10" },
    }),
  },
  {
    segment: "people-standard",
    onError: "limit_session",
    request: (run, time) => ({
      subject: { type: "user", id: `alice-${run}` },
      action: { name: "read" },
      resource: { type: "document", id: "handbook" },
      context: { time, ip: "203.0.113.10" },
    }),
  },
  {
    segment: "services",
    onError: "narrow_scope",
    request: (run, time) => ({
      subject: { type: "service", id: `billing-${run}` },
      action: { name: "read" },
      resource: { type: "table", id: "invoices" },
      context: { time, ip: "10.1.2.3" },
    }),
  },
  {
    segment: "ci-jobs",
    onError: "deny",
    request: (run, time) => ({
      subject: { type: "ci_job", id: `deploy-${run}` },
      action: { name: "deploy" },
      resource: { type: "cluster", id: "prod" },
      context: { time, ip: "10.9.8.7" },
    }),
  },
  {
    segment: "agents",
    onError: "hold",
    request: (run, time) => ({
      subject: { type: "agent", id: `assistant-${run}` },
      action: { name: "read" },
      resource: { type: "mailbox", id: "alice" },
      context: { time, ip: "10.4.4.4" },
    }),
  },
  {
    segment: "catch-all",
    onError: "deny",
    request: (run, time) => ({
      subject: { type: "device", id: `sensor-${run}` },
      action: { name: "report" },
      resource: { type: "telemetry", id: "t1" },
      context: { time, ip: "10.7.7.7" },
    }),
  },
];
