/** Findings: what one detector saw in one request, with its evidence and score contribution. */

import type { JsonObject } from "./request.js";

export const SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  /** Detector id, e.g. `impossible_travel`. */
  readonly detector: string;
  readonly severity: Severity;
  /** Points (0–100) the detector proposes before segment weights. */
  readonly points: number;
  /** Points this finding added to the score after the segment weight; set by scoring. */
  readonly contribution: number;
  /** Short machine-readable reason code, e.g. `new_device`. */
  readonly code: string;
  /** One human sentence, lowercase, no final period. */
  readonly message: string;
  /** The facts the detector relied on, for audit and explanation. */
  readonly evidence: JsonObject;
  /** Set when the detector failed; such findings carry no points and trigger `on_error`. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** What a detector returns before scoring fills in the contribution. */
export type DetectorFinding = Omit<Finding, "contribution" | "detector"> & { detector?: string };
