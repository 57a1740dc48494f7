/** The gateway faces: Envoy ext_authz over HTTP, NGINX auth_request, and their shared parts. */

export { type BearerTokenVerifier, createBearerTokenVerifier, type TokenVerification } from "./bearer-token.js";
export {
  DEFAULT_JWT_ALGORITHMS,
  type GatewayConfig,
  type GatewayConfigInput,
  type GatewayJwtConfig,
  type GatewayRoute,
  type GatewaySubjectHeaders,
  parseGatewayConfig,
} from "./config.js";
export { ENVOY_HTTP_PREFIX, envoyHttpGateway, type GatewayPluginOptions } from "./envoy-http.js";
export {
  createGatewayCheck,
  type DecisionSource,
  type GatewayCheck,
  type GatewayCheckResult,
} from "./gateway-check.js";
export {
  createGatewayRequestBuilder,
  type GatewayInput,
  type GatewayRejection,
  type GatewayRequestBuilder,
  type HeaderBag,
} from "./gateway-request.js";
export {
  challenge,
  type DecisionView,
  decisionResponse,
  ENFORCEMENT_HEADERS,
  failureResponse,
  type GatewayFace,
  type GatewayResponse,
  rejectionResponse,
} from "./gateway-response.js";
export { NGINX_PATH, nginxGateway } from "./nginx.js";
export { type RouteMatch, RouteTable } from "./route-table.js";
