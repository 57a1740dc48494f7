/** One gateway check: build the access request, ask for a decision, map it to an HTTP answer. */

import { isSignalboxError } from "../../errors/index.js";
import type { AccessRequest } from "../../model/request.js";
import { type BearerTokenVerifier, createBearerTokenVerifier } from "./bearer-token.js";
import type { GatewayConfig } from "./config.js";
import { createGatewayRequestBuilder, type GatewayInput } from "./gateway-request.js";
import {
  type DecisionView,
  decisionResponse,
  ENFORCEMENT_HEADERS,
  type GatewayFace,
  type GatewayResponse,
  rejectionResponse,
} from "./gateway-response.js";

/** Anything that decides: the in-process `Engine`, or a client of a remote Signalbox. */
export interface DecisionSource {
  decide(request: AccessRequest): Promise<DecisionView>;
}

export interface GatewayCheckResult {
  readonly response: GatewayResponse;
  /** Headers to strip from the request before it goes upstream (only on allow). */
  readonly removeHeaders: readonly string[];
  readonly request?: AccessRequest;
  readonly decision?: DecisionView;
}

export interface GatewayCheck {
  /**
   * Never rejects for a bad token, a missing subject or a policy deny: those are answers. It
   * rejects only when no decision can be made (engine outage, JWKS unreachable), so each face can
   * fail the way its proxy expects (a 5xx or a failed RPC).
   */
  check(input: GatewayInput, face: GatewayFace): Promise<GatewayCheckResult>;
}

export interface GatewayCheckOptions {
  readonly source: DecisionSource;
  readonly config: GatewayConfig;
  /** Default: built from `config.jwt` when present. */
  readonly verifier?: BearerTokenVerifier;
}

export function createGatewayCheck(options: GatewayCheckOptions): GatewayCheck {
  const { source, config } = options;
  const verifier = options.verifier ?? (config.jwt ? createBearerTokenVerifier(config.jwt) : undefined);
  const builder = createGatewayRequestBuilder(config, verifier);
  return {
    async check(input, face) {
      const built = await builder.build(input);
      if (!built.ok) return { response: rejectionResponse(built.rejection, config.realm, face), removeHeaders: [] };
      let decision: DecisionView;
      try {
        decision = await source.decide(built.request);
      } catch (err) {
        // A request the engine refuses (bad header values) is the client's fault: refuse it too.
        if (isSignalboxError(err) && err.status < 500) {
          return {
            response: rejectionResponse({ reason: "invalid_request", description: err.message }, config.realm, face),
            removeHeaders: [],
            request: built.request,
          };
        }
        throw err;
      }
      const response = decisionResponse(decision, built.request.subject.type, face, config.realm);
      const removeHeaders = response.allowed ? headersToRemove(response, config) : [];
      return { response, removeHeaders, request: built.request, decision };
    },
  };
}

/** Configured headers plus every enforcement header this answer does not set, so a client cannot forge one. */
function headersToRemove(response: GatewayResponse, config: GatewayConfig): string[] {
  const out = new Set(config.removeHeaders);
  for (const h of ENFORCEMENT_HEADERS) if (!(h in response.headers)) out.add(h);
  return [...out];
}
