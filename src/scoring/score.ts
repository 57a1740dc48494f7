/** Scoring: findings → a 0–100 risk score with each finding's contribution, explainable line by line. */

import { type BandBounds, bandOf, type RiskBand } from "../model/band.js";
import type { Finding } from "../model/finding.js";

export interface Scored {
  readonly score: number;
  readonly band: RiskBand;
  /** The findings with `contribution` filled in: points × the segment's weight for the detector. */
  readonly findings: Finding[];
}

/**
 * Adds up weighted points, capped at 100. Additive points (as PingOne Protect and Castle do) keep
 * every contribution readable in the explanation; error findings contribute nothing.
 */
export function score(
  findings: readonly Finding[],
  weights: Readonly<Record<string, number>>,
  bands: BandBounds,
): Scored {
  let total = 0;
  const out: Finding[] = new Array(findings.length);
  for (let i = 0; i < findings.length; i++) {
    const f = findings[i] as Finding;
    const w = weights[f.detector] ?? 1;
    const contribution = f.error ? 0 : Math.max(0, Math.round(f.points * w * 10) / 10);
    total += contribution;
    out[i] = contribution === f.contribution ? f : withContribution(f, contribution);
  }
  const s = Math.min(100, Math.round(total * 10) / 10);
  return { score: s, band: bandOf(s, bands), findings: out };
}

/** A copy of a finding with its contribution set (an explicit copy: object spread is slow on Node 20's hot paths). */
function withContribution(f: Finding, contribution: number): Finding {
  const copy: Finding = {
    detector: f.detector,
    severity: f.severity,
    points: f.points,
    contribution,
    code: f.code,
    message: f.message,
    evidence: f.evidence,
  };
  return f.error ? { ...copy, error: f.error } : copy;
}
