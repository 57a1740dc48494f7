/** `POST /v1/decide`: the full decision with findings, evidence, contributions, matched rules and timings. */

import type { FastifyInstance } from "fastify";
import { DECISION_ID_HEADER } from "../access-log.js";
import { assertAccessRequest } from "../authzen/evaluation-route.js";
import { evaluationRequestSchema, problemResponses } from "../authzen/schemas.js";
import { NO_VALIDATION } from "../openapi.js";
import type { Runtime } from "../runtime.js";
import { nativeDecisionSchema } from "./schemas.js";
import { toNative } from "./to-native.js";

export function registerDecideRoute(app: FastifyInstance, runtime: Runtime): void {
  app.post(
    "/v1/decide",
    {
      schema: {
        tags: ["native"],
        summary: "Full decision",
        body: evaluationRequestSchema,
        response: { 200: nativeDecisionSchema, ...problemResponses },
      },
      validatorCompiler: NO_VALIDATION,
      config: { right: "decide", face: "native" },
    },
    async (request, reply) => {
      assertAccessRequest(request.body);
      const decision = await runtime.engine.decide(request.body);
      reply.header(DECISION_ID_HEADER, decision.id);
      return toNative(decision);
    },
  );
}
