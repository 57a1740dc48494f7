/** What a request says about an authentication attempt: its result, and whether it may teach the profile. */

import type { DetectorContext } from "./detector.js";

/** Whether the request is a failed login: `action.name == "login"` with `context.authn.result == "failure"`. */
export function isLoginFailure(ctx: DetectorContext): boolean {
  return ctx.isLogin && ctx.request.context?.authn?.result === "failure";
}

/** The login result, when the request is a login that states one. */
export function loginResult(ctx: DetectorContext): "success" | "failure" | undefined {
  if (!ctx.isLogin) return undefined;
  const r = ctx.request.context?.authn?.result;
  return r === "success" || r === "failure" ? r : undefined;
}

/**
 * Whether what this request shows may become "known" for the identity. A failed login never teaches:
 * otherwise an attacker guessing passwords from their own device would make that device familiar.
 */
export function mayTeach(ctx: DetectorContext): boolean {
  return !isLoginFailure(ctx);
}
