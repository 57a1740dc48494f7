/** Envoy's `envoy.service.auth.v3.Authorization/Check` served over gRPC, on the same decision core. */

import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { type GatewayConfigInput, parseGatewayConfig } from "../server/gateway/config.js";
import { createGatewayCheck, type DecisionSource } from "../server/gateway/gateway-check.js";
import type { HeaderBag } from "../server/gateway/gateway-request.js";
import { toCheckResponse } from "./check-response.js";

/** The vendored upstream protos; two levels up from both `src/grpc/` and `dist/grpc/`. */
export const PROTO_ROOT = fileURLToPath(new URL("../../proto/", import.meta.url));
export const EXTERNAL_AUTH_PROTO = "envoy/service/auth/v3/external_auth.proto";

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

/** Loads `envoy.service.auth.v3` from the vendored protos (also what a test client needs). */
export function loadAuthorizationPackage(): grpc.GrpcObject {
  const definition = protoLoader.loadSync(EXTERNAL_AUTH_PROTO, PROTO_LOADER_OPTIONS);
  return grpc.loadPackageDefinition(definition);
}

/** The service definition of `envoy.service.auth.v3.Authorization`. */
export function authorizationService(pkg: grpc.GrpcObject = loadAuthorizationPackage()): grpc.ServiceDefinition {
  const ctor = lookup(pkg, "envoy.service.auth.v3.Authorization") as grpc.ServiceClientConstructor;
  return ctor.service;
}

export interface AuthorizationHandlerOptions {
  readonly engine: DecisionSource;
  readonly config?: GatewayConfigInput;
  /** Called when a check cannot be decided (the RPC then fails with UNAVAILABLE). */
  readonly onError?: (err: unknown) => void;
}

interface CheckRequestMessage {
  attributes?: {
    source?: { address?: { socket_address?: { address?: string } } };
    request?: { http?: { method?: string; path?: string; headers?: Record<string, string> } };
  };
}

/**
 * The `Check` handler. A decision of any kind is a successful RPC (a non-OK `CheckResponse.status`
 * is a deny); only a failure to decide fails the RPC with UNAVAILABLE, so Envoy applies
 * `status_on_error` and `failure_mode_allow` as configured.
 */
export function createCheckHandler(options: AuthorizationHandlerOptions): grpc.handleUnaryCall<unknown, unknown> {
  const config = parseGatewayConfig(options.config ?? {});
  const gate = createGatewayCheck({ source: options.engine, config });
  return (call, callback) => {
    const req = call.request as CheckRequestMessage;
    const http = req.attributes?.request?.http;
    const headers: HeaderBag = http?.headers ?? {};
    const peer = req.attributes?.source?.address?.socket_address?.address;
    gate
      .check({ method: http?.method || "GET", path: http?.path || "/", headers, ...(peer ? { peer } : {}) }, "envoy")
      .then((result) => callback(null, toCheckResponse(result.response, result.removeHeaders, result.decision)))
      .catch((err: unknown) => {
        options.onError?.(err);
        callback({ code: grpc.status.UNAVAILABLE, details: "signalbox cannot decide right now" });
      });
  };
}

function lookup(pkg: grpc.GrpcObject, dotted: string): unknown {
  let node: unknown = pkg;
  for (const part of dotted.split(".")) node = (node as Record<string, unknown>)[part];
  if (node === undefined) throw new Error(`"${dotted}" is missing from the vendored protos`);
  return node;
}
