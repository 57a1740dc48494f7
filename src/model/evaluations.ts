/**
 * AuthZEN batch evaluations (`POST /access/v1/evaluations`): expands the top-level defaults into
 * one request per item. Each member an item gives (`subject`, `action`, `resource`, `context`)
 * replaces the default whole; members are never merged field by field.
 */

const MEMBERS = ["subject", "action", "resource", "context"] as const;

/** One evaluation to decide, as it would arrive at the single-evaluation endpoint. */
export type EvaluationItem = Partial<Record<(typeof MEMBERS)[number], unknown>>;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * The requests a batch body stands for, in order. A body without `evaluations`, or with an empty
 * array, stands for one request: the body itself. An item that is not an object inherits every
 * default (so the caller's validation reports what is missing). Members left undefined stay absent.
 */
export function expandEvaluations(body: unknown): EvaluationItem[] {
  const top = isObject(body) ? body : {};
  const defaults: EvaluationItem = {};
  for (const m of MEMBERS) if (top[m] !== undefined) defaults[m] = top[m];
  const items = top.evaluations;
  if (!Array.isArray(items) || items.length === 0) return [defaults];
  return items.map((item) => {
    const own = isObject(item) ? item : {};
    const out: EvaluationItem = { ...defaults };
    for (const m of MEMBERS) if (own[m] !== undefined) out[m] = own[m];
    return out;
  });
}
