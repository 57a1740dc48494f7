/** Signalbox as a Fastify plugin: every request is checked in an `onRequest` hook before its route runs. */

import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { failureFor } from "../server/gateway/gateway-answer.js";
import type { HeaderBag } from "../server/gateway/gateway-request.js";
import { createEnforcement, type SignalboxMiddlewareOptions, type SignalboxVerdict } from "./enforcement.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set on every request the check allowed; `null` for skipped requests. */
    signalbox: SignalboxVerdict | null;
  }
}

async function signalboxPlugin(fastify: FastifyInstance, options: SignalboxMiddlewareOptions): Promise<void> {
  const gate = createEnforcement(options);
  fastify.decorateRequest("signalbox", null);
  fastify.addHook("onRequest", async (request, reply) => {
    if (options.skip?.(request.method, request.url)) return;
    try {
      const result = await gate.check(
        {
          method: request.method,
          path: request.url,
          headers: request.headers as HeaderBag,
          peer: request.socket.remoteAddress,
        },
        "middleware",
      );
      const { response } = result;
      if (!response.allowed || !result.request || !result.decision) {
        return reply.code(response.status).headers(response.headers).send(response.body);
      }
      for (const h of result.removeHeaders) delete request.headers[h];
      Object.assign(request.headers, response.headers);
      request.signalbox = { decision: result.decision, request: result.request, headers: response.headers };
      reply.header("x-signalbox-decision-id", result.decision.id);
    } catch (err) {
      const response = failureFor(err, request.log);
      return reply.code(response.status).headers(response.headers).send(response.body);
    }
  });
}

/** Register with `app.register(signalboxFastify, { engine, config })`; it applies to the whole app. */
export const signalboxFastify = fp(signalboxPlugin, { fastify: "5.x", name: "signalbox" });
