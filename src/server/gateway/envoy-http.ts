/**
 * Envoy `ext_authz` as an HTTP service: any method under `/gateway/envoy/*`, where the rest of the
 * path (query included) is the original request target. 200 allows; any other status is the
 * answer Envoy relays to the client.
 */

import type { FastifyInstance, FastifyRequest } from "fastify";
import { type GatewayConfigInput, parseGatewayConfig } from "./config.js";
import { sendGatewayAnswer, sendGatewayFailure } from "./gateway-answer.js";
import { createGatewayCheck, type DecisionSource } from "./gateway-check.js";
import type { HeaderBag } from "./gateway-request.js";
import { acceptAnyBody } from "./ignore-body.js";

export const ENVOY_HTTP_PREFIX = "/gateway/envoy";

export interface GatewayPluginOptions {
  /** The engine (`createEngine`) or any other decision source. */
  readonly engine: DecisionSource;
  readonly config?: GatewayConfigInput;
}

/** Register without `fastify-plugin`: the body handling below must stay inside this plugin. */
export async function envoyHttpGateway(fastify: FastifyInstance, options: GatewayPluginOptions): Promise<void> {
  const config = parseGatewayConfig(options.config ?? {});
  const gate = createGatewayCheck({ source: options.engine, config });
  acceptAnyBody(fastify);

  const handler = async (request: FastifyRequest, reply: import("fastify").FastifyReply) => {
    const target = request.url.slice(ENVOY_HTTP_PREFIX.length);
    const path = target.startsWith("/") ? target : `/${target}`;
    try {
      const result = await gate.check(
        { method: request.method, path, headers: request.headers as HeaderBag, peer: request.socket.remoteAddress },
        "envoy",
      );
      return sendGatewayAnswer(reply, result);
    } catch (err) {
      return sendGatewayFailure(reply, err);
    }
  };
  fastify.all(ENVOY_HTTP_PREFIX, handler);
  fastify.all(`${ENVOY_HTTP_PREFIX}/*`, handler);
}
