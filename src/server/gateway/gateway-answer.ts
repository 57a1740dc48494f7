/** Writes a gateway check's answer, or a fail-closed 5xx, onto a Fastify reply. */

import type { FastifyBaseLogger, FastifyReply } from "fastify";
import { isSignalboxError } from "../../errors/index.js";
import type { GatewayCheckResult } from "./gateway-check.js";
import { failureResponse, type GatewayResponse } from "./gateway-response.js";

/**
 * Sends the answer. On allow, `x-envoy-auth-headers-to-remove` lists the headers Envoy must strip
 * before the upstream sees the request (NGINX and the middleware ignore it).
 */
export function sendGatewayAnswer(reply: FastifyReply, result: GatewayCheckResult): FastifyReply {
  const { response } = result;
  reply.code(response.status).headers(response.headers);
  if (response.allowed && result.removeHeaders.length > 0) {
    reply.header("x-envoy-auth-headers-to-remove", result.removeHeaders.join(", "));
  }
  return response.body === undefined ? reply.send() : reply.send(response.body);
}

/** The answer when no decision could be made; logs the cause (never the request's headers). */
export function failureFor(err: unknown, log: FastifyBaseLogger): GatewayResponse {
  log.error({ err: describe(err) }, "gateway check failed; answering 5xx so the proxy applies its failure mode");
  if (isSignalboxError(err) && err.status >= 500) return failureResponse(err.code, err.message);
  return failureResponse("INTERNAL", "the decision service cannot decide right now");
}

export function sendGatewayFailure(reply: FastifyReply, err: unknown): FastifyReply {
  const response = failureFor(err, reply.log);
  return reply.code(response.status).headers(response.headers).send(response.body);
}

function describe(err: unknown): { code?: string; message: string } {
  if (isSignalboxError(err)) return { code: err.code, message: err.message };
  return { message: err instanceof Error ? err.message : String(err) };
}
