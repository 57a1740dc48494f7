/** Starts the whole decision service: runtime, HTTP app with every face, optional gRPC, listening. */

import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { ServeConfig } from "../config/serve-config.js";
import { ENGINE_VERSION } from "../engine/create-engine.js";
import { type RunningGrpcServer, startGrpcServer } from "../grpc/index.js";
import { buildApp, createLogger } from "../server/app.js";
import type { Runtime } from "../server/runtime.js";
import { gatewayFaces } from "./gateway-faces.js";
import { openRuntime } from "./open-runtime.js";

export interface RunningService {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:8700`. */
  readonly url: string;
  /** Bound gRPC port, when the gRPC face is on. */
  readonly grpcPort: number | undefined;
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
  /**
   * With `drainMs`, first answers `/healthz` and `/readyz` with 503 for that long while still serving; then stops
   * accepting, lets requests in flight finish and closes the engine (which flushes the audit
   * trail). Idempotent.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  /** Watch the policy file and reload on SIGHUP. Default true. */
  readonly watch?: boolean;
}

function urlOf(host: string, port: number): string {
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
}

export async function startService(config: ServeConfig, options: StartOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger(config);
  const runtime = await openRuntime(config, { logger, watch: options.watch !== false, engineVersion: ENGINE_VERSION });
  let app: FastifyInstance | undefined;
  let grpc: RunningGrpcServer | undefined;
  let draining = false;
  try {
    app = buildApp({
      runtime,
      config,
      logger,
      plugins: gatewayFaces(runtime, config),
      version: ENGINE_VERSION,
      draining: () => draining,
    });
    await app.listen({ port: config.port, host: config.host });
    if (config.grpcPort !== undefined) {
      grpc = await startGrpcServer({
        port: config.grpcPort,
        host: config.host,
        engine: runtime.engine,
        config: (config.gateway ?? {}) as NonNullable<Parameters<typeof startGrpcServer>[0]["config"]>,
        onError: (err) => logger.error({ err }, "gRPC check failed"),
      });
    }
  } catch (err) {
    await app?.close();
    await runtime.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  const started = app;
  let closing: Promise<void> | undefined;
  return {
    url: urlOf(config.host, port),
    grpcPort: grpc?.port,
    app: started,
    runtime,
    close() {
      closing ??= (async () => {
        if (config.drainMs > 0) {
          // Health checks fail first; requests keep being served until the balancer has noticed.
          draining = true;
          logger.info({ drain_ms: config.drainMs }, "draining: health checks answer 503 before the listener closes");
          await new Promise((resolve) => setTimeout(resolve, config.drainMs));
        }
        await Promise.all([started.close(), grpc?.close()]);
        await runtime.close();
      })();
      return closing;
    },
  };
}
