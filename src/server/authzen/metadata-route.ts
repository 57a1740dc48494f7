/** `GET /.well-known/authzen-configuration`: PDP metadata naming the base URL the caller used. */

import type { FastifyInstance, FastifyRequest } from "fastify";

/** Obligation types Signalbox can put in a decision (AuthZEN obligations profile). */
export const SUPPORTED_OBLIGATIONS = ["step-up", "session_termination", "notification", "custom"] as const;

/** The PDP identifier: the scheme and host the request came to (behind a trusted proxy, the forwarded ones). */
export function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export function registerMetadataRoute(app: FastifyInstance): void {
  app.get(
    "/.well-known/authzen-configuration",
    {
      schema: {
        tags: ["authzen"],
        summary: "PDP metadata",
        response: {
          200: {
            type: "object",
            additionalProperties: true,
            properties: {
              policy_decision_point: { type: "string" },
              access_evaluation_endpoint: { type: "string" },
              access_evaluations_endpoint: { type: "string" },
              search_subject_endpoint: { type: "string" },
              search_resource_endpoint: { type: "string" },
              search_action_endpoint: { type: "string" },
              capabilities: { type: "array", items: { type: "string" } },
              supported_obligations: { type: "array", items: { type: "string" } },
            },
          },
        },
      },
      config: { right: "public", face: "authzen" },
    },
    async (request, reply) => {
      const base = baseUrlOf(request);
      reply.header("cache-control", "public, max-age=300");
      return {
        policy_decision_point: base,
        access_evaluation_endpoint: `${base}/access/v1/evaluation`,
        access_evaluations_endpoint: `${base}/access/v1/evaluations`,
        search_subject_endpoint: `${base}/access/v1/search/subject`,
        search_resource_endpoint: `${base}/access/v1/search/resource`,
        search_action_endpoint: `${base}/access/v1/search/action`,
        capabilities: [],
        supported_obligations: [...SUPPORTED_OBLIGATIONS],
      };
    },
  );
}
