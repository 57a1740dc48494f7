/** Request ids and the access log: `X-Request-ID` echoed on every response, a log line for the requests worth one. */

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Response header carrying the decision id, so logs and clients can find the audit record. */
export const DECISION_ID_HEADER = "signalbox-decision-id";

/** A request slower than this is logged even when every-request logging is off. */
export const SLOW_REQUEST_MS = 250;

export interface AccessLogOptions {
  /** Log every request, not only errors (status 400 and above) and slow requests. */
  readonly everyRequest: boolean;
}

/** Whether a finished request gets a line: always when asked, otherwise errors and slow requests only. */
export function deservesLogLine(everyRequest: boolean, status: number, ms: number): boolean {
  return everyRequest || status >= 400 || ms >= SLOW_REQUEST_MS;
}

function echoRequestId(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.header("x-request-id", request.id);
  done();
}

/**
 * Echoes the request id (the caller's `X-Request-ID`, or a generated one) and, for errors, slow
 * requests or every request when asked, writes one info line with the route, status, duration and
 * decision id. Headers are never logged, so no API key or token reaches the log. The hooks take a
 * callback rather than returning a promise: they run on every request.
 */
export function registerAccessLog(app: FastifyInstance, options: AccessLogOptions = { everyRequest: false }): void {
  const { everyRequest } = options;
  app.addHook("onRequest", echoRequestId);
  app.addHook("onResponse", (request, reply, done) => {
    const ms = reply.elapsedTime;
    if (deservesLogLine(everyRequest, reply.statusCode, ms)) {
      const decisionId = reply.getHeader(DECISION_ID_HEADER);
      request.log.info(
        {
          method: request.method,
          route: request.routeOptions.url ?? "unmatched",
          status: reply.statusCode,
          ms: Math.round(ms * 100) / 100,
          ...(decisionId === undefined ? {} : { decision_id: String(decisionId) }),
        },
        "request",
      );
    }
    done();
  });
}
