/** What the middleware shares between frameworks: options, the check, and the verdict it leaves. */

import { SignalboxError } from "../errors/index.js";
import type { AccessRequest } from "../model/request.js";
import type { GatewayConfigInput } from "../server/gateway/config.js";
import { parseGatewayConfig } from "../server/gateway/config.js";
import { createGatewayCheck, type DecisionSource, type GatewayCheck } from "../server/gateway/gateway-check.js";
import type { DecisionView } from "../server/gateway/gateway-response.js";
import { type RemoteSignalboxOptions, remoteDecisionSource } from "./remote-decisions.js";

export interface SignalboxMiddlewareOptions {
  /** An in-process engine (`createEngine`) or any decision source. Exactly one of `engine` and `remote`. */
  readonly engine?: DecisionSource;
  /** A Signalbox service to ask over its AuthZEN API. */
  readonly remote?: RemoteSignalboxOptions;
  /** Token verification, subject headers and routes, as for the gateway faces. */
  readonly config?: GatewayConfigInput;
  /** Requests to let through unchecked, e.g. health probes. */
  readonly skip?: (method: string, path: string) => boolean;
}

/** What an allowed request carries for the application: the decision and the constraints to apply. */
export interface SignalboxVerdict {
  readonly decision: DecisionView;
  readonly request: AccessRequest;
  /** `x-signalbox-*` constraints (session TTL, read-only, scope), also set on the request's headers. */
  readonly headers: Readonly<Record<string, string>>;
}

export function createEnforcement(options: SignalboxMiddlewareOptions): GatewayCheck {
  if ((options.engine === undefined) === (options.remote === undefined)) {
    throw new SignalboxError("CONFIG_INVALID", "signalbox middleware: pass exactly one of engine and remote");
  }
  const source = options.engine ?? remoteDecisionSource(options.remote as RemoteSignalboxOptions);
  return createGatewayCheck({ source, config: parseGatewayConfig(options.config ?? {}, "middleware.config") });
}
