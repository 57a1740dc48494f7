/** Turns a gateway answer into an Envoy `CheckResponse` (envoy.service.auth.v3), as plain proto-loader objects. */

import type { DecisionView, GatewayResponse } from "../server/gateway/gateway-response.js";

/** gRPC status codes used in `CheckResponse.status` (google.rpc.Code). */
export const RPC_OK = 0;
export const RPC_PERMISSION_DENIED = 7;
export const RPC_UNAUTHENTICATED = 16;

interface HeaderValueOption {
  header: { key: string; value: string };
}

/** protobufjs loads the well-known `google.protobuf.Value` with camel-case names whatever `keepCase` says. */
interface StructValue {
  stringValue: string;
}

export interface CheckResponseMessage {
  status: { code: number; message: string };
  ok_response?: { headers: HeaderValueOption[]; headers_to_remove: string[] };
  denied_response?: { status: { code: number }; headers: HeaderValueOption[]; body: string };
  dynamic_metadata?: { fields: Record<string, StructValue> };
}

/**
 * Allow → `OK` with `ok_response` (headers for the upstream, headers to strip); every refusal →
 * `PERMISSION_DENIED`, or `UNAUTHENTICATED` when the answer is a 401 (step-up, bad token), with a
 * `denied_response` whose status, headers and body Envoy relays to the client. The decision id and
 * path also go out as dynamic metadata so access logs can show them.
 */
export function toCheckResponse(
  response: GatewayResponse,
  removeHeaders: readonly string[],
  decision?: DecisionView,
): CheckResponseMessage {
  const headers = Object.entries(response.headers).map(([key, value]) => ({ header: { key, value } }));
  const metadata = decision
    ? { dynamic_metadata: { fields: { decision_id: sv(decision.id), control_path: sv(decision.controlPath) } } }
    : {};
  if (response.allowed) {
    return {
      status: { code: RPC_OK, message: "" },
      ok_response: { headers, headers_to_remove: [...removeHeaders] },
      ...metadata,
    };
  }
  const code = response.status === 401 ? RPC_UNAUTHENTICATED : RPC_PERMISSION_DENIED;
  return {
    status: { code, message: decision ? `signalbox: ${decision.controlPath}` : "signalbox: refused" },
    denied_response: { status: { code: response.status }, headers, body: response.body ?? "" },
    ...metadata,
  };
}

function sv(value: string): StructValue {
  return { stringValue: value };
}
