/** The decision service's HTTP app: every face, security, limits and metrics, wired from what is passed in. */

import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from "fastify";
import { type Logger, pino } from "pino";
import type { ServeConfig } from "../config/serve-config.js";
import { registerAccessLog } from "./access-log.js";
import { registerApiKeyAuth } from "./api-key-auth.js";
import { registerEvaluationRoute } from "./authzen/evaluation-route.js";
import { registerEvaluationsRoute } from "./authzen/evaluations-route.js";
import { registerMetadataRoute } from "./authzen/metadata-route.js";
import { registerSearchRoute } from "./authzen/search-route.js";
import { registerHealthRoutes } from "./health-routes.js";
import { registerJsonBody } from "./json-body.js";
import { createServiceMetrics, registerHttpMetrics } from "./metrics.js";
import { registerDecideRoute } from "./native/decide-route.js";
import { registerDecisionListRoute } from "./native/decision-list-route.js";
import { registerDecisionReadRoute } from "./native/decision-read-route.js";
import { registerOutcomeRoute } from "./native/outcome-route.js";
import { registerOpenApi } from "./openapi.js";
import { registerProblemHandling } from "./problem.js";
import { registerRateLimit } from "./rate-limit.js";
import type { Runtime } from "./runtime.js";
import "./route-config.js";

/** A face the app registers beside its own (the Envoy and NGINX gateway faces), with its own options. */
export interface FacePlugin {
  readonly name: string;
  register(scope: FastifyInstance): Promise<unknown> | PromiseLike<unknown>;
}

export interface AppOptions {
  readonly runtime: Runtime;
  readonly config: ServeConfig;
  /** A pino logger; `false` for none. Default: pino at the configured level. */
  readonly logger?: Logger | false;
  readonly plugins?: readonly FacePlugin[];
  /** Version shown in the OpenAPI document. */
  readonly version?: string;
  /** Collect process metrics (CPU, memory, event loop) in `/metrics`. Default true. */
  readonly processMetrics?: boolean;
  /** True while the service drains before closing (`/healthz` and `/readyz` answer 503, requests are still served). */
  readonly draining?: () => boolean;
}

/** Paths that must never reach a log line, should a serializer ever include them. */
export const REDACTED_LOG_PATHS = [
  "req.headers.authorization",
  "headers.authorization",
  "request.context.token",
  "context.token",
  "body.context.token",
];

export function createLogger(config: ServeConfig): Logger {
  return pino({ level: config.logLevel, redact: { paths: REDACTED_LOG_PATHS, censor: "[redacted]" } });
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** The gateway faces' routes (`/gateway/envoy/*`, `/gateway/nginx`), matched by route template. */
function isGatewayRoute(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  return route !== undefined && (route === "/gateway" || route.startsWith("/gateway/"));
}

export function buildApp(options: AppOptions): FastifyInstance {
  const { runtime, config } = options;
  const logger = options.logger === undefined ? createLogger(config) : options.logger;
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    requestIdHeader: "x-request-id",
    // the access log writes one line per request itself, with the decision id
    logController: new LogController({ requestIdLogLabel: "request_id", disableRequestLogging: true }),
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;

  // route schemas are documentation; bodies are always serialised as they are, never filtered by a schema
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  let shuttingDown = false;
  app.addHook("preClose", async () => {
    shuttingDown = true;
  });

  registerProblemHandling(app);
  registerAccessLog(app, { everyRequest: config.logRequests });
  registerJsonBody(app, config.jsonDepthLimit);

  const metrics = createServiceMetrics(runtime, { processMetrics: options.processMetrics !== false });
  const unsubscribe = runtime.observe(metrics.observer);
  app.addHook("onClose", async () => {
    unsubscribe();
  });
  registerHttpMetrics(app, metrics.registry);

  if (config.rateLimit.max > 0) {
    registerRateLimit(app, {
      max: config.rateLimit.max,
      windowMs: config.rateLimit.windowMs,
      // A gateway relays every end user through one address, and turns a 429 into a deny for all of
      // them, so its faces are limited only when the operator asks for it.
      exempt: (request) =>
        (config.rateLimit.exemptLoopback && LOOPBACK.test(request.ip)) ||
        (config.rateLimit.gateways !== true && isGatewayRoute(request)),
    });
  }
  registerApiKeyAuth(app, config.apiKeys);
  app.register(async (scope) => {
    await registerOpenApi(scope, options.version ?? "0.0.0");
    registerEvaluationRoute(scope, runtime);
    registerEvaluationsRoute(scope, runtime, config.minimalBatch);
    registerSearchRoute(scope, runtime, "subject");
    registerSearchRoute(scope, runtime, "resource");
    registerSearchRoute(scope, runtime, "action");
    registerMetadataRoute(scope);
    registerDecideRoute(scope, runtime);
    registerDecisionListRoute(scope, runtime);
    registerDecisionReadRoute(scope, runtime);
    registerOutcomeRoute(scope, runtime);
    registerHealthRoutes(scope, runtime, () => shuttingDown, options.draining ?? (() => false));
    scope.get(
      "/metrics",
      { schema: { tags: ["operations"], summary: "Prometheus metrics" }, config: { right: "public", face: "ops" } },
      async (_request, reply) => {
        reply.type(metrics.registry.contentType);
        return metrics.registry.metrics();
      },
    );
    for (const face of options.plugins ?? []) await face.register(scope);
  });
  return app;
}
