/** Formats an evaluation report as readable tables. */

import { CONTROL_PATHS } from "../model/control-path.js";
import type { EvaluationReport } from "./evaluate.js";

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function formatReport(r: EvaluationReport): string {
  const lines: string[] = [];
  lines.push(`requests decided: ${r.requests} (${r.skipped} attack requests not sent after the attacker was stopped)`);
  lines.push("");
  lines.push(
    `${"attack scenario".padEnd(32)} ${"incidents".padStart(9)} ${"caught".padStart(7)} ${"rate".padStart(8)}`,
  );
  for (const [name, s] of Object.entries(r.scenarios)) {
    lines.push(
      `${name.padEnd(32)} ${String(s.incidents).padStart(9)} ${String(s.caught).padStart(7)} ${pct(s.caught / Math.max(1, s.incidents)).padStart(8)}`,
    );
  }
  lines.push(
    `${"all".padEnd(32)} ${String(r.incidents).padStart(9)} ${String(r.caught).padStart(7)} ${pct(r.catchRate).padStart(8)}`,
  );
  lines.push("");
  lines.push(
    `friction after warm-up: ${r.legitimateDiverted} of ${r.legitimate} legitimate requests left the fast path (${pct(r.friction)})`,
  );
  const share = (k: { requests: number; diverted: number }) => pct(k.diverted / Math.max(1, k.requests));
  lines.push(
    `  people: ${r.frictionByKind.people.diverted} of ${r.frictionByKind.people.requests} (${share(r.frictionByKind.people)}); machines: ${r.frictionByKind.machines.diverted} of ${r.frictionByKind.machines.requests} (${share(r.frictionByKind.machines)})`,
  );
  lines.push(`machine identities asked for interactive MFA: ${r.machineMfaPrompts}`);
  lines.push(`human attack incidents allowed through: ${r.humanAttacksAllowed}`);
  lines.push(`decisions with detector or state errors: ${r.decisionErrors}`);
  lines.push("");
  lines.push("step-up rate per user of legitimate logins, by login-history length (median, mean):");
  for (const b of r.stepUpByHistory) {
    lines.push(
      `  ${b.history.padEnd(6)} ${pct(b.medianStepUpRate).padStart(8)} ${pct(b.meanStepUpRate).padStart(8)}  (${b.users} users)`,
    );
  }
  lines.push("");
  const pathHeads = CONTROL_PATHS.map((p) => p.slice(0, 9).padStart(9)).join(" ");
  lines.push(
    `${"segment".padEnd(22)} ${"TP".padStart(6)} ${"FN".padStart(6)} ${"FP".padStart(6)} ${"TN".padStart(8)}   ${pathHeads}`,
  );
  for (const [name, s] of Object.entries(r.segments)) {
    const paths = CONTROL_PATHS.map((p) => String(s.paths[p] ?? 0).padStart(9)).join(" ");
    lines.push(
      `${name.padEnd(22)} ${String(s.tp).padStart(6)} ${String(s.fn).padStart(6)} ${String(s.fp).padStart(6)} ${String(s.tn).padStart(8)}   ${paths}`,
    );
  }
  lines.push("(TP/FN: attack requests diverted/allowed; FP/TN: legitimate requests after warm-up diverted/allowed)");
  const missed = Object.entries(r.scenarios).flatMap(([, s]) => s.missed);
  if (missed.length > 0)
    lines.push("", `missed incidents: ${missed.slice(0, 20).join(", ")}${missed.length > 20 ? ", …" : ""}`);
  return lines.join("\n");
}
