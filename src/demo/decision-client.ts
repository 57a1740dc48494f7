/** The demo's HTTP client for the native API: asks for decisions and reports outcomes, as a real enforcement point would. */

import type { Outcome } from "../model/outcome.js";

/** The members of a native decision (`POST /v1/decide`) the demo reads. */
export interface NativeDecision {
  readonly decision: boolean;
  readonly decision_id: string;
  readonly control_path: string;
  readonly risk: { readonly score: number; readonly band: string };
  readonly segment: string;
  readonly reasons: readonly { readonly code: string; readonly message: string }[];
  readonly obligations: readonly {
    readonly id: string;
    readonly type: string;
    readonly properties: Readonly<Record<string, unknown>>;
  }[];
  readonly findings: readonly {
    readonly detector: string;
    readonly code: string;
    readonly severity: string;
    readonly contribution: number;
    readonly message: string;
  }[];
}

async function failure(what: string, res: Response): Promise<Error> {
  const body = await res.text().catch(() => "");
  return new Error(`${what} answered ${res.status}: ${body.slice(0, 300)}`);
}

export async function decide(baseUrl: string, request: unknown): Promise<NativeDecision> {
  const res = await fetch(`${baseUrl}/v1/decide`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request),
  });
  if (res.status !== 200) throw await failure("POST /v1/decide", res);
  return (await res.json()) as NativeDecision;
}

export async function reportOutcome(baseUrl: string, decisionId: string, outcome: Outcome): Promise<void> {
  const res = await fetch(`${baseUrl}/v1/decisions/${encodeURIComponent(decisionId)}/outcome`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ outcome }),
  });
  // drain the body so the keep-alive connection is reused
  await res.arrayBuffer();
  if (res.status !== 204) throw new Error(`POST /v1/decisions/${decisionId}/outcome answered ${res.status}`);
}
