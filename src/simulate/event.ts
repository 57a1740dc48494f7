/** A simulated request with its ground truth: who really sent it, and what they do when challenged. */

import type { AccessRequest } from "../model/request.js";

export const ATTACK_SCENARIOS = [
  "ato_naive",
  "ato_vpn",
  "ato_targeted",
  "impossible_travel",
  "credential_stuffing",
  "password_spray",
  "mfa_fatigue",
  "session_replay",
  "privilege_escalation",
  "service_token_new_segment",
  "token_replay_across_workloads",
  "rogue_ci_runner",
  "exfiltration_rate_spike",
  "lateral_movement",
  "agent_out_of_scope",
] as const;

export type AttackScenario = (typeof ATTACK_SCENARIOS)[number];

export interface SimLabel {
  readonly actor: "legitimate" | "attacker";
  /** The attack incident this request belongs to. */
  readonly incident?: string;
  readonly scenario?: AttackScenario;
  /** The request that would do the damage: the incident is caught only if diverted at or before it. */
  readonly damaging?: boolean;
  /** Whether the subject is a person (for the "no machine MFA" and "no human attack allowed" checks). */
  readonly human: boolean;
  /** The identity whose login history this request adds to (for friction per history length). */
  readonly identity: string;
}

export interface SimEvent {
  /** Epoch ms; also written into `request.context.time`. */
  readonly at: number;
  readonly request: AccessRequest;
  readonly label: SimLabel;
}

/** The outcome a real sender produces when asked to prove itself or wait for approval. */
export function outcomeFor(
  label: SimLabel,
  path: string,
): "step_up_passed" | "step_up_failed" | "approved" | "rejected" | undefined {
  if (path === "step_up") return label.actor === "legitimate" ? "step_up_passed" : "step_up_failed";
  if (path === "hold") return label.actor === "legitimate" ? "approved" : "rejected";
  return undefined;
}
