/** The gRPC face: Envoy ext_authz `Authorization/Check`. */

export { type CheckResponseMessage, toCheckResponse } from "./check-response.js";
export {
  authorizationService,
  createCheckHandler,
  EXTERNAL_AUTH_PROTO,
  loadAuthorizationPackage,
  PROTO_LOADER_OPTIONS,
  PROTO_ROOT,
} from "./envoy-authorization.js";
export { type GrpcServerOptions, type RunningGrpcServer, startGrpcServer } from "./grpc-server.js";
