/** `POST /access/v1/evaluations`: AuthZEN batches with the three evaluation semantics. */

import type { FastifyInstance } from "fastify";
import type { Engine } from "../../engine/engine.js";
import { requestProblems } from "../../engine/validate-request.js";
import { isSignalboxError, SignalboxError } from "../../errors/signalbox-error.js";
import { NO_VALIDATION } from "../openapi.js";
import type { Runtime } from "../runtime.js";
import { assertAccessRequest } from "./evaluation-route.js";
import { prefersMinimal } from "./prefer-minimal.js";
import { evaluationsRequestSchema, evaluationsResponseSchema, problemResponses } from "./schemas.js";
import { type AuthzenDecision, authzenItemError, toAuthzen, toMinimalAuthzen } from "./to-authzen.js";

export const EVALUATION_SEMANTICS = ["execute_all", "deny_on_first_deny", "permit_on_first_permit"] as const;
export type EvaluationSemantic = (typeof EVALUATION_SEMANTICS)[number];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

const ENTITY_KEYS = ["subject", "action", "resource", "context"] as const;

/** An item with the top-level defaults filled in; an item's member replaces the default whole (no deep merge). */
export function withDefaults(defaults: Json, item: Json): Json {
  const out: Json = { ...item };
  for (const k of ENTITY_KEYS) {
    if (out[k] === undefined && defaults[k] !== undefined) out[k] = defaults[k];
  }
  return out;
}

function semanticOf(body: Json): EvaluationSemantic {
  const options = body.options;
  if (options === undefined) return "execute_all";
  if (!isObject(options)) {
    throw new SignalboxError("INVALID_REQUEST", `"options" must be an object`, {
      problems: [{ path: "options", message: `"options" must be an object` }],
    });
  }
  const s = options.evaluations_semantic;
  if (s === undefined) return "execute_all";
  if (typeof s === "string" && (EVALUATION_SEMANTICS as readonly string[]).includes(s)) return s as EvaluationSemantic;
  const message = `"options.evaluations_semantic" must be one of ${EVALUATION_SEMANTICS.join(", ")}`;
  throw new SignalboxError("INVALID_REQUEST", message, {
    problems: [{ path: "options.evaluations_semantic", message }],
  });
}

async function evaluateItem(engine: Engine, request: unknown, minimal: boolean): Promise<AuthzenDecision> {
  if (!isObject(request)) return authzenItemError(400, "the evaluation must be a JSON object", minimal);
  const problems = requestProblems(request);
  const first = problems[0];
  if (first) return authzenItemError(400, first.message, minimal);
  try {
    const decision = await engine.decide(request);
    return minimal ? toMinimalAuthzen(decision) : toAuthzen(decision);
  } catch (err) {
    if (isSignalboxError(err)) return authzenItemError(err.status, err.message, minimal);
    throw err;
  }
}

/** Runs a batch: every item (in parallel) for `execute_all`, otherwise in order up to the deciding item. */
export async function evaluateBatch(
  engine: Engine,
  defaults: Json,
  items: readonly unknown[],
  semantic: EvaluationSemantic,
  minimal: boolean,
): Promise<AuthzenDecision[]> {
  const merged = items.map((item) => (isObject(item) ? withDefaults(defaults, item) : item));
  if (semantic === "execute_all") return Promise.all(merged.map((r) => evaluateItem(engine, r, minimal)));
  const stopOn = semantic === "permit_on_first_permit";
  const out: AuthzenDecision[] = [];
  for (const r of merged) {
    const answer = await evaluateItem(engine, r, minimal);
    out.push(answer);
    if (answer.decision === stopOn) break;
  }
  return out;
}

export function registerEvaluationsRoute(app: FastifyInstance, runtime: Runtime, minimalBatch: boolean): void {
  app.post(
    "/access/v1/evaluations",
    {
      schema: {
        tags: ["authzen"],
        summary: "Access evaluations (batch)",
        description:
          "Top-level subject, action, resource and context are defaults an item inherits whole. Without items the answer is a single decision. `Prefer: return=minimal` (or the minimal-batch option) answers exactly {decision} per item.",
        body: evaluationsRequestSchema,
        response: { 200: evaluationsResponseSchema, ...problemResponses },
      },
      validatorCompiler: NO_VALIDATION,
      config: { right: "decide", face: "authzen" },
    },
    async (request) => {
      const body = request.body;
      if (!isObject(body)) {
        throw new SignalboxError("INVALID_REQUEST", "the request must be a JSON object", {
          problems: [{ path: "", message: "the request must be a JSON object" }],
        });
      }
      const semantic = semanticOf(body);
      const items = body.evaluations;
      if (items !== undefined && !Array.isArray(items)) {
        throw new SignalboxError("INVALID_REQUEST", `"evaluations" must be an array`, {
          problems: [{ path: "evaluations", message: `"evaluations" must be an array` }],
        });
      }
      const minimal = prefersMinimal(request, minimalBatch);
      if (items === undefined || items.length === 0) {
        assertAccessRequest(body);
        const decision = await runtime.engine.decide(body);
        return minimal ? toMinimalAuthzen(decision) : toAuthzen(decision);
      }
      return { evaluations: await evaluateBatch(runtime.engine, body, items, semantic, minimal) };
    },
  );
}
