/** Request ids and the access log: `X-Request-ID` echoed on every response, one log line per request. */

import type { FastifyInstance } from "fastify";

/** Response header carrying the decision id, so logs and clients can find the audit record. */
export const DECISION_ID_HEADER = "signalbox-decision-id";

/**
 * Echoes the request id (the caller's `X-Request-ID`, or a generated one) and writes one line per
 * request with the route, status, duration and decision id. Headers are never logged, so no API
 * key or token reaches the log.
 */
export function registerAccessLog(app: FastifyInstance): void {
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    const decisionId = reply.getHeader(DECISION_ID_HEADER);
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? "unmatched",
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        ...(decisionId === undefined ? {} : { decision_id: String(decisionId) }),
      },
      "request",
    );
  });
}
