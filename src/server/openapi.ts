/** OpenAPI 3.1 at `/openapi.json` and rendered docs at `/docs`, built from the route schemas. */

import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, FastifySchemaCompiler } from "fastify";

/**
 * Route schemas document the API; the handlers validate with the engine's own checks, so errors
 * carry the same paths and messages everywhere (including inside a batch) and no value is coerced.
 */
export const NO_VALIDATION: FastifySchemaCompiler<unknown> = () => () => true;

export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Signalbox decision service",
        version,
        description:
          "Risk segmentation and adaptive access: OpenID AuthZEN Authorization API 1.0, the native decision API and outcomes.",
      },
      components: {
        securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "An API key given to the server" } },
      },
      security: [{ apiKey: [] }],
      tags: [
        { name: "authzen", description: "OpenID AuthZEN Authorization API 1.0" },
        { name: "native", description: "Full decisions, audit reads and outcomes" },
        { name: "operations", description: "Health, readiness and metrics" },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true }, config: { right: "public", face: "ops" } }, async () =>
    app.swagger(),
  );
}
