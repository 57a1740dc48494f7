/** Risk bands: the coarse, ordered reading of a 0–100 risk score. */

export const RISK_BANDS = ["low", "medium", "high", "critical"] as const;
export type RiskBand = (typeof RISK_BANDS)[number];

/** Lower bounds (inclusive) of the medium, high and critical bands on the 0–100 scale. */
export interface BandBounds {
  readonly medium: number;
  readonly high: number;
  readonly critical: number;
}

export const DEFAULT_BAND_BOUNDS: BandBounds = Object.freeze({ medium: 25, high: 50, critical: 75 });

export function bandOf(score: number, bounds: BandBounds = DEFAULT_BAND_BOUNDS): RiskBand {
  if (score >= bounds.critical) return "critical";
  if (score >= bounds.high) return "high";
  if (score >= bounds.medium) return "medium";
  return "low";
}
