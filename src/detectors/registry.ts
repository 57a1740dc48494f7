/** The detector registry: every shipped detector, in the order they run. */

import { anonymizingNetworkDetector } from "./anonymizing-network.js";
import { atypicalHourDetector } from "./atypical-hour.js";
import type { Detector } from "./detector.js";
import { devicePostureDetector } from "./device-posture.js";
import { failedLoginVelocityDetector } from "./failed-login-velocity.js";
import { impossibleTravelDetector } from "./impossible-travel.js";
import { ipReputationDetector } from "./ip-reputation.js";
import { lateralMovementDetector } from "./lateral-movement.js";
import { loginLikelihoodDetector } from "./login-likelihood.js";
import { mfaFatigueDetector } from "./mfa-fatigue.js";
import { newCountryDetector } from "./new-country.js";
import { newDeviceDetector } from "./new-device.js";
import { newNetworkDetector } from "./new-network.js";
import { newWorkloadIdentityDetector } from "./new-workload-identity.js";
import { offHoursSecretAccessDetector } from "./off-hours-secret-access.js";
import { passwordSprayDetector } from "./password-spray.js";
import { privilegeEscalationDetector } from "./privilege-escalation.js";
import { rateAnomalyDetector } from "./rate-anomaly.js";
import { staleAuthenticationDetector } from "./stale-authentication.js";
import { tokenAgeDetector } from "./token-age.js";
import { tokenReplayDetector } from "./token-replay.js";
import { unusualActionDetector } from "./unusual-action.js";
import { unusualNetworkSegmentDetector } from "./unusual-network-segment.js";

/** People first, then sessions and tokens, then machines; the order only affects the order of findings. */
export const ALL_DETECTORS: readonly Detector[] = Object.freeze([
  newDeviceDetector,
  newCountryDetector,
  newNetworkDetector,
  impossibleTravelDetector,
  atypicalHourDetector,
  failedLoginVelocityDetector,
  passwordSprayDetector,
  mfaFatigueDetector,
  anonymizingNetworkDetector,
  ipReputationDetector,
  devicePostureDetector,
  staleAuthenticationDetector,
  loginLikelihoodDetector,
  tokenReplayDetector,
  tokenAgeDetector,
  privilegeEscalationDetector,
  lateralMovementDetector,
  rateAnomalyDetector,
  unusualNetworkSegmentDetector,
  newWorkloadIdentityDetector,
  offHoursSecretAccessDetector,
  unusualActionDetector,
]);

const BY_ID: ReadonlyMap<string, Detector> = new Map(ALL_DETECTORS.map((d) => [d.id, d]));

export function detectorById(id: string): Detector | undefined {
  return BY_ID.get(id);
}
