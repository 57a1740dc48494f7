/** Outcomes reported after a decision: what actually happened, the engine's ground truth. */

export const OUTCOMES = [
  "step_up_passed",
  "step_up_failed",
  "approved",
  "rejected",
  "confirmed_compromise",
  "false_positive",
] as const;

export type Outcome = (typeof OUTCOMES)[number];

export function isOutcome(value: unknown): value is Outcome {
  return typeof value === "string" && (OUTCOMES as readonly string[]).includes(value);
}

/** Whether an outcome shows the request came from the legitimate identity (learning may proceed). */
export function isTrustedOutcome(outcome: Outcome): boolean {
  switch (outcome) {
    case "step_up_passed":
    case "approved":
    case "false_positive":
      return true;
    case "step_up_failed":
    case "rejected":
    case "confirmed_compromise":
      return false;
  }
}

/**
 * Whether two outcomes contradict each other. Outcomes are final: once a decision is known to be
 * legitimate it cannot later be a compromise without a 409, and vice versa. Repeating the same
 * outcome is idempotent.
 */
export function contradicts(earlier: Outcome, later: Outcome): boolean {
  return earlier !== later && isTrustedOutcome(earlier) !== isTrustedOutcome(later);
}
