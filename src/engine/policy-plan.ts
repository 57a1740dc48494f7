/** Per-policy precomputation: each segment's detectors with their merged parameters, built once per policy. */

import type { Detector, DetectorParams } from "../detectors/detector.js";
import type { CompiledPolicy, CompiledSegment } from "../policy/compiled.js";

export interface PlannedDetector {
  readonly detector: Detector;
  readonly params: DetectorParams;
}

export interface PolicyPlan {
  readonly policy: CompiledPolicy;
  /** Detectors per segment name, in registry order, disabled ones removed. */
  readonly detectors: ReadonlyMap<string, readonly PlannedDetector[]>;
}

export function planPolicy(policy: CompiledPolicy, available: readonly Detector[]): PolicyPlan {
  const byId = new Map(available.map((d) => [d.id, d]));
  const detectors = new Map<string, PlannedDetector[]>();
  for (const segment of policy.segments) detectors.set(segment.name, planSegment(segment, policy, byId));
  return { policy, detectors };
}

function planSegment(
  segment: CompiledSegment,
  policy: CompiledPolicy,
  byId: ReadonlyMap<string, Detector>,
): PlannedDetector[] {
  const out: PlannedDetector[] = [];
  const wanted = new Set(segment.detectors);
  for (const [id, detector] of byId) {
    if (!wanted.has(id)) continue;
    const params = { ...detector.defaults, ...(policy.detectorParams[id] ?? {}) };
    if (params.enabled === false) continue;
    out.push({ detector, params });
  }
  return out;
}
