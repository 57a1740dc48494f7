/** Starts and stops the gRPC listener that serves Envoy's ext_authz `Check` (`--grpc-port`). */

import * as grpc from "@grpc/grpc-js";
import { type AuthorizationHandlerOptions, authorizationService, createCheckHandler } from "./envoy-authorization.js";

export interface GrpcServerOptions extends AuthorizationHandlerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
}

export interface RunningGrpcServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Stops accepting calls and waits for calls in flight; forces the rest after `graceMs` (default 5 s). */
  close(graceMs?: number): Promise<void>;
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new grpc.Server();
  server.addService(authorizationService(), { Check: createCheckHandler(options) });
  const host = options.host ?? "127.0.0.1";
  const address = host.includes(":") ? `[${host}]:${options.port}` : `${host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
  return {
    port,
    close(graceMs = 5000) {
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
