/** Renders the demo's summary and the "what to try next" block as plain text for a terminal. */

import { CONTROL_PATHS } from "../model/control-path.js";
import type { DemoSummary, ExplainedDecision } from "./summary.js";

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}

const TITLES: Readonly<Record<ExplainedDecision["kind"], string>> = {
  step_up: "a person asked to step up",
  deny_or_quarantine: "a request refused",
  machine_reissue: "a machine identity asked to re-issue its token (never an MFA prompt)",
  hold: "a request held for approval",
};

function explainedLines(e: ExplainedDecision): string[] {
  const who = e.actor === "attacker" ? `attacker (${e.scenario ?? "unknown scenario"})` : "legitimate";
  const lines = [
    `  ${TITLES[e.kind]}`,
    `    ${e.subject} ${e.action} → ${e.controlPath}   segment ${e.segment}, score ${e.score} (${e.band}), sender ${who}`,
    `    decision ${e.decisionId}`,
  ];
  if (e.contributions.length > 0) {
    lines.push("    score contributions:");
    for (const c of e.contributions) lines.push(`      +${c.points} ${c.code}: ${c.message}`);
  }
  for (const r of e.reasons) lines.push(`    reason ${r.code}: ${r.message}`);
  for (const o of e.obligations) lines.push(`    obligation ${o.type} ${JSON.stringify(o.properties)}`);
  if (e.outcome) lines.push(`    outcome reported: ${e.outcome}`);
  return lines;
}

export function renderSummary(s: DemoSummary): string {
  const used = CONTROL_PATHS.filter((p) => (s.paths[p] ?? 0) > 0);
  const rows = s.segments.map((r) => [r.segment, ...used.map((p) => String(r.paths[p] ?? 0)), String(r.total)]);
  rows.push(["all segments", ...used.map((p) => String(s.paths[p] ?? 0)), String(s.requests)]);
  const out = [
    "",
    `Segmentation summary: ${s.requests} requests (${s.legitimate} legitimate, ${s.attacks} from attackers)`,
    "",
    ...table(["segment", ...used, "total"], rows),
    "",
    "Top reasons for leaving the fast path:",
    ...(s.topReasons.length === 0
      ? ["  (none)"]
      : s.topReasons.map((r) => `  ${String(r.count).padStart(6)}  ${r.code}`)),
    "",
    `Attack incidents caught: ${s.caught} of ${s.incidents}`,
    ...s.scenarios.map((c) => `  ${c.scenario.padEnd(30)} ${c.caught}/${c.incidents}`),
    `Legitimate requests diverted on the attack day: ${s.legitimateDiverted} of ${s.legitimateOnAttackDay}`,
    "",
    "Explained decisions:",
  ];
  if (s.explained.length === 0) out.push("  (no step-up, refusal or hold in this run)");
  for (const e of s.explained) out.push(...explainedLines(e), "");
  return out.join("\n");
}

/** `eventTime` is an RFC 3339 time just after the replayed traffic: the demo decides on event time. */
export function renderServing(url: string, dataDir: string, eventTime: string): string {
  const example = JSON.stringify({
    subject: { type: "user", id: "alice@example.com" },
    action: { name: "login" },
    resource: { type: "application", id: "portal" },
    context: { time: eventTime, ip: "203.0.113.7", authn: { result: "success", method: "password" } },
  });
  return [
    `Signalbox is serving on ${url} (state and audit trail in ${dataDir})`,
    `  API docs      ${url}/docs`,
    `  OpenAPI       ${url}/openapi.json`,
    `  metrics       ${url}/metrics`,
    `  one decision  ${url}/v1/decisions/<decision id>`,
    "",
    "Try an AuthZEN evaluation (the demo decides on event time, so requests carry context.time):",
    `  curl -s ${url}/access/v1/evaluation -H 'content-type: application/json' \\`,
    `    -d '${example}'`,
    "",
    "Ctrl-C to stop.",
  ].join("\n");
}
