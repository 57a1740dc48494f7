/** The settings each control path accepts under `paths:`; they shape the decision's obligations. */

import { CONTROL_PATHS } from "../model/control-path.js";

export type SettingType = "string" | "number" | "boolean" | "string-list";

/** `machine_step_up` is the step-up of machine identities: re-issuance and re-attestation, never MFA. */
export const PATH_SETTING_NAMES = [...CONTROL_PATHS, "machine_step_up"] as const;

/** Keys every path accepts: who to notify and a message for the enforcement point. */
const COMMON: Readonly<Record<string, SettingType>> = { notify: "string", message: "string" };

export const PATH_SETTINGS: Readonly<
  Record<(typeof PATH_SETTING_NAMES)[number], Readonly<Record<string, SettingType>>>
> = {
  allow: COMMON,
  limit_session: { ...COMMON, max_session_seconds: "number", read_only: "boolean" },
  narrow_scope: { ...COMMON, scope: "string" },
  throttle: { ...COMMON, retry_after: "number", rate: "string" },
  step_up: { ...COMMON, acr_values: "string", max_age: "number", amr_values: "string-list" },
  hold: { ...COMMON, expires_in: "number", template: "string", approvers: "string-list" },
  deny: COMMON,
  quarantine: { ...COMMON, revoke_sessions: "boolean" },
  machine_step_up: { ...COMMON, reissue_token: "boolean", reattest: "boolean", max_token_age: "number" },
};

export function isPathSettingName(name: string): name is (typeof PATH_SETTING_NAMES)[number] {
  return Object.hasOwn(PATH_SETTINGS, name);
}
