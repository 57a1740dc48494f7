/** The Envoy and NGINX gateway faces as app plugins, configured from the service configuration. */

import type { ServeConfig } from "../config/serve-config.js";
import type { FacePlugin } from "../server/app.js";
import {
  envoyHttpGateway,
  type GatewayConfigInput,
  nginxGateway,
  parseGatewayConfig,
} from "../server/gateway/index.js";
import type { Runtime } from "../server/runtime.js";

/** Checks the `gateway` section at startup (a bad one fails `serve` with `CONFIG_INVALID`), then returns both faces. */
export function gatewayFaces(runtime: Runtime, config: ServeConfig): FacePlugin[] {
  const input = (config.gateway ?? {}) as GatewayConfigInput;
  parseGatewayConfig(input);
  const options = { engine: runtime.engine, config: input };
  return [
    { name: "envoy-http", register: (scope) => scope.register(envoyHttpGateway, options) },
    { name: "nginx", register: (scope) => scope.register(nginxGateway, options) },
  ];
}
