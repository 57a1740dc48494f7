/**
 * NGINX `auth_request` at `/gateway/nginx`: the original method and URI arrive in
 * `X-Original-Method` and `X-Original-URI`. NGINX accepts only 2xx, 401 and 403 from the
 * subrequest (anything else becomes a 500), so every refusal here is a 401 or a 403.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parseGatewayConfig } from "./config.js";
import type { GatewayPluginOptions } from "./envoy-http.js";
import { sendGatewayAnswer, sendGatewayFailure } from "./gateway-answer.js";
import { createGatewayCheck } from "./gateway-check.js";
import { type HeaderBag, header } from "./gateway-request.js";
import { rejectionResponse } from "./gateway-response.js";
import { acceptAnyBody } from "./ignore-body.js";

export const NGINX_PATH = "/gateway/nginx";

export async function nginxGateway(fastify: FastifyInstance, options: GatewayPluginOptions): Promise<void> {
  const config = parseGatewayConfig(options.config ?? {});
  const gate = createGatewayCheck({ source: options.engine, config });
  acceptAnyBody(fastify);

  fastify.all(NGINX_PATH, async (request: FastifyRequest, reply: FastifyReply) => {
    const headers = request.headers as HeaderBag;
    const uri = header(headers, "x-original-uri");
    if (uri === undefined || !uri.startsWith("/")) {
      request.log.warn("nginx auth subrequest without X-Original-URI; check proxy_set_header in the auth location");
      const response = rejectionResponse(
        { reason: "invalid_request", description: "the X-Original-URI header is missing or not an origin-form path" },
        config.realm,
        "nginx",
      );
      return sendGatewayAnswer(reply, { response, removeHeaders: [] });
    }
    const method = header(headers, "x-original-method") ?? request.method;
    try {
      const result = await gate.check({ method, path: uri, headers, peer: request.socket.remoteAddress }, "nginx");
      return sendGatewayAnswer(reply, result);
    } catch (err) {
      return sendGatewayFailure(reply, err);
    }
  });
}
