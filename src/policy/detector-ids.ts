/** The detector ids a policy may name; a policy that names any other id does not compile. */

export const KNOWN_DETECTOR_IDS = [
  // people
  "new_device",
  "new_country",
  "new_network",
  "impossible_travel",
  "atypical_hour",
  "failed_login_velocity",
  "password_spray",
  "mfa_fatigue",
  "anonymizing_network",
  "ip_reputation",
  "device_posture",
  "stale_authentication",
  "login_likelihood",
  // sessions and tokens
  "token_replay",
  "token_age",
  "privilege_escalation",
  "lateral_movement",
  "rate_anomaly",
  // machines
  "unusual_network_segment",
  "new_workload_identity",
  "off_hours_secret_access",
  "unusual_action",
] as const;

export type KnownDetectorId = (typeof KNOWN_DETECTOR_IDS)[number];
