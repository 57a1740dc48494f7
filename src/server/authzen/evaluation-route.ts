/** `POST /access/v1/evaluation`: one AuthZEN access evaluation. */

import type { FastifyInstance } from "fastify";
import { requestProblems } from "../../engine/validate-request.js";
import { SignalboxError } from "../../errors/signalbox-error.js";
import { DECISION_ID_HEADER } from "../access-log.js";
import { NO_VALIDATION } from "../openapi.js";
import type { Runtime } from "../runtime.js";
import { prefersMinimal } from "./prefer-minimal.js";
import { decisionSchema, evaluationRequestSchema, problemResponses } from "./schemas.js";
import { toAuthzen, toMinimalAuthzen } from "./to-authzen.js";

/** Throws `INVALID_REQUEST` naming every missing or ill-typed member. */
export function assertAccessRequest(body: unknown): void {
  const problems = requestProblems(body);
  const first = problems[0];
  if (first) throw new SignalboxError("INVALID_REQUEST", first.message, { problems });
}

export function registerEvaluationRoute(app: FastifyInstance, runtime: Runtime): void {
  app.post(
    "/access/v1/evaluation",
    {
      schema: {
        tags: ["authzen"],
        summary: "Access evaluation",
        description: "A deny is 200 with decision false; the control path and obligations are in context.",
        body: evaluationRequestSchema,
        response: { 200: decisionSchema, ...problemResponses },
      },
      validatorCompiler: NO_VALIDATION,
      config: { right: "decide", face: "authzen" },
    },
    async (request, reply) => {
      // the engine checks the request itself, with the same INVALID_REQUEST problems assertAccessRequest gives
      const decision = await runtime.engine.decide(request.body);
      reply.header(DECISION_ID_HEADER, decision.id);
      return prefersMinimal(request, false) ? toMinimalAuthzen(decision) : toAuthzen(decision);
    },
  );
}
