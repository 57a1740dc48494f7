/** The AuthZEN-shaped access request with Signalbox's context vocabulary (public contract §2). */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface Subject {
  /** `user | service | agent | ci_job | api_key | device`, or any other AuthZEN subject type. */
  type: string;
  id: string;
  properties?: JsonObject;
}

export interface Action {
  /** `login`, `read`, `write`, `secrets.read`, … or an HTTP method for gateway checks. */
  name: string;
  properties?: JsonObject;
}

export interface Resource {
  type: string;
  id: string;
  properties?: JsonObject;
}

export interface GeoHint {
  country?: string;
  region?: string;
  city?: string;
  lat?: number;
  lon?: number;
  /** Accuracy radius in kilometres, when the PEP knows it. */
  accuracy_km?: number;
}

export interface DeviceContext {
  id?: string;
  managed?: boolean;
  edr?: boolean;
  os?: string;
  os_version?: string;
  compliant?: boolean;
}

export interface SessionContext {
  id?: string;
  /** NumericDate (seconds) of the last active authentication. */
  auth_time?: number;
  acr?: string;
  amr?: string[];
}

export interface TokenContext {
  jti?: string;
  iat?: number;
  exp?: number;
  scope?: string;
  client_id?: string;
}

export interface AuthnContext {
  result?: "success" | "failure";
  method?: string;
  mfa_result?: "approved" | "denied" | "timeout";
}

export interface WorkloadContext {
  spiffe_id?: string;
  network_segment?: string;
  runner_id?: string;
  attested?: boolean;
}

export interface TransactionContext {
  amount?: number;
  currency?: string;
  kind?: string;
}

/** Signalbox's request context. Every member is optional; unknown members are kept and ignored. */
export interface RequestContext {
  /** Event time (RFC 3339); used only when the engine runs on event time. */
  time?: string;
  ip?: string;
  user_agent?: string;
  geo?: GeoHint;
  device?: DeviceContext;
  session?: SessionContext;
  token?: TokenContext;
  authn?: AuthnContext;
  workload?: WorkloadContext;
  transaction?: TransactionContext;
  rtt_ms?: number;
  /** An AuthZEN access-request approval presented on re-evaluation. */
  approval?: JsonObject;
  [key: string]: unknown;
}

export interface AccessRequest {
  subject: Subject;
  action: Action;
  resource: Resource;
  context?: RequestContext;
}

/** Whether a subject is a person or a machine identity; drives obligations and segments. */
export type IdentityKind = "human" | "machine";

const MACHINE_TYPES: ReadonlySet<string> = new Set([
  "service",
  "service_account",
  "agent",
  "ai_agent",
  "ci_job",
  "api_key",
  "device",
  "workload",
]);

/**
 * The identity kind of a subject type. Unknown types count as human: AuthZEN interop uses
 * `identity` and `user` for people, and a wrong "machine" guess would silently drop step-up.
 */
export function identityKindOf(subjectType: string): IdentityKind {
  return MACHINE_TYPES.has(subjectType) ? "machine" : "human";
}

/** The stable key of an identity in state and audit: `type:id`. */
export function identityKey(subject: Pick<Subject, "type" | "id">): string {
  return `${subject.type}:${subject.id}`;
}
