/** `GET /v1/decisions/{id}`: one decision read back from the audit trail, with its outcomes. */

import type { FastifyInstance } from "fastify";
import { SignalboxError } from "../../errors/signalbox-error.js";
import { problemResponse } from "../authzen/schemas.js";
import { NO_VALIDATION } from "../openapi.js";
import type { Runtime } from "../runtime.js";
import { decisionIdParams, nativeDecisionSchema } from "./schemas.js";
import { toNativeAudited } from "./to-native.js";

export function registerDecisionReadRoute(app: FastifyInstance, runtime: Runtime): void {
  app.get<{ Params: { id: string } }>(
    "/v1/decisions/:id",
    {
      schema: {
        tags: ["native"],
        summary: "Read a decision from the audit trail",
        params: decisionIdParams,
        response: {
          200: nativeDecisionSchema,
          404: problemResponse("unknown decision"),
        },
      },
      validatorCompiler: NO_VALIDATION,
      config: { right: "admin", face: "native" },
    },
    async (request) => {
      const id = request.params.id;
      const audited = await runtime.engine.audit.getDecision(id);
      if (!audited) throw new SignalboxError("UNKNOWN_DECISION", `no decision "${id}" in the audit trail`);
      return toNativeAudited(audited);
    },
  );
}
