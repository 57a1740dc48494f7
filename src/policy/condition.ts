/** Compiles CEL conditions once into `Condition`s that evaluate to a boolean and never throw. */

import { Environment } from "@marcbachmann/cel-js";
import { cidrContains, globMatch } from "./cel-functions.js";
import type { Condition, ConditionVars } from "./compiled.js";

/** Where a condition sits decides which variables it may use. */
export type ConditionScope = "request" | "rule";

/** Variables that exist only after detection and scoring, so only rules may read them. */
export const RULE_ONLY_VARIABLES = ["findings", "score", "band", "segment", "errors"] as const;

function requestEnvironment(): Environment {
  const env = new Environment({ homogeneousAggregateLiterals: false });
  for (const name of ["subject", "action", "resource", "context", "entities", "enrichment"]) {
    env.registerVariable(name, "map");
  }
  env.registerFunction("cidr_contains(string, string): bool", cidrContains);
  env.registerFunction("glob(string, string): bool", globMatch);
  return env;
}

const REQUEST_ENV = requestEnvironment();
const RULE_ENV = REQUEST_ENV.clone()
  .registerVariable("findings", "map")
  .registerVariable("score", "double")
  .registerVariable("band", "string")
  .registerVariable("segment", "string")
  .registerVariable("errors", "list<string>");

/** A compile error in a condition, with the offset range inside the expression when known. */
export interface ConditionProblem {
  readonly message: string;
  readonly start?: number;
}

type Evaluate = (vars: Record<string, unknown>) => unknown;

function rangeStart(err: unknown): number | undefined {
  const range = (err as { range?: { start?: unknown } } | null)?.range;
  return typeof range?.start === "number" ? range.start : undefined;
}

/** The first line of a CEL error message, without the source excerpt the library appends. */
function firstLine(message: string): string {
  const line = (message.split("\n")[0] ?? message).trim();
  return line.charAt(0).toLowerCase() + line.slice(1);
}

function scopeMessage(message: string, scope: ConditionScope): string {
  const unknown = /^unknown variable: (\w+)/.exec(message);
  const name = unknown?.[1];
  if (name && scope === "request" && (RULE_ONLY_VARIABLES as readonly string[]).includes(name)) {
    return `\`${name}\` is only available in rules: segments and authorization grants are decided before detection`;
  }
  if (name) return `unknown variable "${name}"`;
  return message;
}

/** Normalises absent `properties` (and `context`) to `{}` so conditions can read them without `has()`. */
function withProperties(entity: unknown): unknown {
  if (entity === null || typeof entity !== "object") return entity;
  if ((entity as { properties?: unknown }).properties !== undefined) return entity;
  return { ...entity, properties: {} };
}

/** The CEL bindings of a condition: the variables of its scope, with the documented normalisation. */
export function conditionBindings(vars: ConditionVars, scope: ConditionScope): Record<string, unknown> {
  const out: Record<string, unknown> = {
    subject: withProperties(vars.subject),
    action: withProperties(vars.action),
    resource: withProperties(vars.resource),
    context: vars.context ?? {},
    entities: vars.entities ?? {},
    enrichment: vars.enrichment ?? {},
  };
  if (scope === "rule") {
    out.findings = vars.findings ?? {};
    out.score = vars.score ?? 0;
    out.band = vars.band ?? "low";
    out.segment = vars.segment ?? "";
    out.errors = vars.errors ?? [];
  }
  return out;
}

/** The last decision's bindings of one scope, and the variables they were built from. */
interface BindingsCache {
  vars: ConditionVars | undefined;
  bindings: Record<string, unknown>;
}

// One entry per scope rather than a WeakMap: a decision evaluates all its conditions of a scope
// together, and a WeakMap insert per decision cost more than the condition it served. Decisions that
// interleave across a state read only rebuild the bindings.
const REQUEST_BINDINGS: BindingsCache = { vars: undefined, bindings: {} };
const RULE_BINDINGS: BindingsCache = { vars: undefined, bindings: {} };

/**
 * The bindings of a decision's variables, built once per decision and scope rather than once per
 * condition. Rule bindings are first built when the first rule runs, after the engine has set
 * `findings`, `score` and `band`, which it does not change afterwards.
 */
function bindingsFor(vars: ConditionVars, scope: ConditionScope): Record<string, unknown> {
  const cache = scope === "rule" ? RULE_BINDINGS : REQUEST_BINDINGS;
  if (cache.vars !== vars) {
    cache.bindings = conditionBindings(vars, scope);
    cache.vars = vars;
  }
  return cache.bindings;
}

/** Compiles one condition or returns its problem; the expression is parsed and type-checked once. */
export function compileCondition(
  source: string,
  scope: ConditionScope,
): { condition: Condition; problem?: undefined } | { condition?: undefined; problem: ConditionProblem } {
  const env = scope === "rule" ? RULE_ENV : REQUEST_ENV;
  let run: Evaluate;
  try {
    const checked = env.check(source);
    if (!checked.valid) {
      const err = checked.error;
      const start = rangeStart(err);
      const message = scopeMessage(firstLine(err?.message ?? "invalid expression"), scope);
      return { problem: start === undefined ? { message } : { message, start } };
    }
    if (checked.type !== "bool" && checked.type !== "dyn") {
      return { problem: { message: `a condition must be a bool, this one is a ${String(checked.type)}`, start: 0 } };
    }
    run = env.parse(source) as unknown as Evaluate;
  } catch (err) {
    const start = rangeStart(err);
    const message = scopeMessage(firstLine(err instanceof Error ? err.message : String(err)), scope);
    return { problem: start === undefined ? { message } : { message, start } };
  }
  const condition: Condition = {
    source,
    evaluate(vars) {
      // A condition that reads a missing key fails by throwing; capturing a stack trace for it
      // cost more than the rest of an authorization decision, and the trace is never shown.
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        const value = run(bindingsFor(vars, scope));
        if (typeof value === "boolean") return { value };
        return { value: false, error: `condition "${source}" returned ${typeof value}, not a bool` };
      } catch (err) {
        return { value: false, error: firstLine(err instanceof Error ? err.message : String(err)) };
      } finally {
        Error.stackTraceLimit = limit;
      }
    },
  };
  return { condition };
}

/** A condition that always holds: the default `when` of a segment. */
export const ALWAYS: Condition = Object.freeze({
  source: "true",
  evaluate: () => ({ value: true }),
});
