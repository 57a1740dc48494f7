/** The one place errors become HTTP: RFC 9457 problem bodies with Signalbox's stable codes, never a stack trace. */

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ERROR_CODES, type ErrorCode } from "../errors/codes.js";
import { isSignalboxError, SignalboxError } from "../errors/signalbox-error.js";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors: { path: string; message: string }[];
  request_id?: string;
}

export function problemBody(err: SignalboxError, requestId?: string): ProblemBody {
  const info = ERROR_CODES[err.code];
  const body: ProblemBody = {
    type: `urn:signalbox:error:${err.code}`,
    title: info.meaning,
    status: info.status,
    detail: err.message,
    code: err.code,
    errors: err.problems.map((p) => ({ path: p.path ?? "", message: p.message })),
  };
  if (requestId !== undefined) body.request_id = requestId;
  return body;
}

export function sendProblem(reply: FastifyReply, err: SignalboxError): FastifyReply {
  const body = problemBody(err, reply.request.id);
  if (err.code === "UNAUTHENTICATED") reply.header("www-authenticate", 'Bearer realm="signalbox"');
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** Fastify's own errors (body parsing, limits, rate limit) under Signalbox's codes. */
function fromFastify(err: FastifyError, request: FastifyRequest): SignalboxError {
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new SignalboxError("BODY_TOO_LARGE", "the request body is larger than the configured limit");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new SignalboxError("INVALID_JSON", "the request body is empty; send a JSON object");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new SignalboxError("INVALID_JSON", "the request body is not valid JSON");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE": {
      const type = String(request.headers["content-type"] ?? "");
      const message = `content type "${type}" is not application/json`;
      return request.routeOptions.config.face === "authzen"
        ? new SignalboxError("INVALID_REQUEST", message, { problems: [{ path: "content-type", message }] })
        : new SignalboxError("UNSUPPORTED_MEDIA_TYPE", message);
    }
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new SignalboxError("INVALID_JSON", "the request body does not match its Content-Length");
    default:
      break;
  }
  const validation = (err as { validation?: { instancePath?: string; message?: string }[] }).validation;
  if (Array.isArray(validation)) {
    const problems = validation.map((v) => ({ path: v.instancePath ?? "", message: v.message ?? "is invalid" }));
    return new SignalboxError("INVALID_REQUEST", err.message, { problems });
  }
  if (err.statusCode === 429) {
    return new SignalboxError("RATE_LIMITED", "too many requests from this client; retry after the Retry-After delay");
  }
  if (err instanceof SyntaxError || err.statusCode === 400) {
    return new SignalboxError("INVALID_JSON", "the request body is not valid JSON");
  }
  return new SignalboxError("INTERNAL", "an unexpected internal error occurred", { cause: err });
}

/** Maps anything thrown in a route to a problem response. Unexpected errors are logged, never shown. */
export function toSignalboxError(err: unknown, request: FastifyRequest): SignalboxError {
  if (isSignalboxError(err)) return err;
  if (err !== null && typeof err === "object" && "code" in err) return fromFastify(err as FastifyError, request);
  if (err instanceof SyntaxError) return new SignalboxError("INVALID_JSON", "the request body is not valid JSON");
  return new SignalboxError("INTERNAL", "an unexpected internal error occurred", { cause: err });
}

export function registerProblemHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const problem = toSignalboxError(err, request);
    if (problem.status >= 500) request.log.error({ err }, "request failed");
    if (problem.code === "RATE_LIMITED") {
      const retry = reply.getHeader("retry-after");
      if (retry !== undefined) reply.header("retry-after", retry);
    }
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new SignalboxError("NOT_FOUND", `no route ${request.method} "${request.url.split("?")[0]}"`)),
  );
}
