/** The detector registry: every shipped detector, in the order they run. */

import type { Detector } from "./detector.js";

export const ALL_DETECTORS: readonly Detector[] = [];

export function detectorById(id: string): Detector | undefined {
  return ALL_DETECTORS.find((d) => d.id === id);
}
