/** `signalbox/middleware`: let an application be its own enforcement point (Fastify or Express). */

export type { GatewayConfig, GatewayConfigInput, GatewayRoute } from "../server/gateway/config.js";
export type { DecisionSource } from "../server/gateway/gateway-check.js";
export type { DecisionView } from "../server/gateway/gateway-response.js";
export type { SignalboxMiddlewareOptions, SignalboxVerdict } from "./enforcement.js";
export {
  type SignalboxExpressMiddleware,
  type SignalboxExpressOptions,
  type SignalboxExpressRequest,
  signalboxExpress,
} from "./express.js";
export { signalboxFastify } from "./fastify.js";
export { fromAuthzen, type RemoteSignalboxOptions, remoteDecisionSource } from "./remote-decisions.js";
