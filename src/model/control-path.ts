/** The closed, ordered set of control paths a decision can route a request onto. */

/** Control paths from least to most restrictive; the index is the restrictiveness rank. */
export const CONTROL_PATHS = [
  "allow",
  "limit_session",
  "narrow_scope",
  "throttle",
  "step_up",
  "hold",
  "deny",
  "quarantine",
] as const;

export type ControlPath = (typeof CONTROL_PATHS)[number];

const RANK: Readonly<Record<ControlPath, number>> = Object.freeze(
  Object.fromEntries(CONTROL_PATHS.map((p, i) => [p, i])) as Record<ControlPath, number>,
);

export function isControlPath(value: unknown): value is ControlPath {
  return typeof value === "string" && Object.hasOwn(RANK, value);
}

/** Restrictiveness rank: higher is more restrictive. */
export function rankOf(path: ControlPath): number {
  return RANK[path];
}

/** The more restrictive of two paths (the first on a tie). */
export function mostRestrictive(a: ControlPath, b: ControlPath): ControlPath {
  return RANK[b] > RANK[a] ? b : a;
}

/**
 * Whether the AuthZEN `decision` boolean is true for this path. Only the paths that let the
 * request go ahead (possibly constrained) are `true`, so a PEP that ignores `context` fails closed.
 */
export function isPermitted(path: ControlPath): boolean {
  switch (path) {
    case "allow":
    case "limit_session":
    case "narrow_scope":
      return true;
    case "throttle":
    case "step_up":
    case "hold":
    case "deny":
    case "quarantine":
      return false;
  }
}
