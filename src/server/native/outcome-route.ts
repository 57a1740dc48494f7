/** `POST /v1/decisions/{id}/outcome`: what happened after a decision, the engine's ground truth. */

import type { FastifyInstance } from "fastify";
import { SignalboxError } from "../../errors/signalbox-error.js";
import { isOutcome, OUTCOMES } from "../../model/outcome.js";
import { problemResponse, problemResponses } from "../authzen/schemas.js";
import { NO_VALIDATION } from "../openapi.js";
import type { Runtime } from "../runtime.js";
import { decisionIdParams, outcomeBodySchema } from "./schemas.js";

export function registerOutcomeRoute(app: FastifyInstance, runtime: Runtime): void {
  app.post<{ Params: { id: string } }>(
    "/v1/decisions/:id/outcome",
    {
      schema: {
        tags: ["native"],
        summary: "Record an outcome",
        params: decisionIdParams,
        body: outcomeBodySchema,
        response: {
          204: { description: "recorded", type: "null" },
          404: problemResponse("unknown decision"),
          409: problemResponse("contradicts an earlier final outcome"),
          ...problemResponses,
        },
      },
      validatorCompiler: NO_VALIDATION,
      config: { right: "admin", face: "native" },
    },
    async (request, reply) => {
      const body = request.body;
      const outcome = typeof body === "object" && body !== null ? (body as { outcome?: unknown }).outcome : undefined;
      if (!isOutcome(outcome)) {
        const message =
          outcome === undefined
            ? `missing required member "outcome"`
            : `outcome ${JSON.stringify(outcome)} is not one of ${OUTCOMES.join(", ")}`;
        throw new SignalboxError("UNKNOWN_OUTCOME", message, { problems: [{ path: "outcome", message }] });
      }
      await runtime.engine.recordOutcome(request.params.id, outcome);
      return reply.code(204).send();
    },
  );
}
