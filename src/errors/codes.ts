/**
 * Every stable error code Signalbox raises, with its HTTP status and the fix. `docs/errors.md`
 * holds the same table; a test keeps the two in sync.
 */

export interface ErrorCodeInfo {
  readonly status: number;
  readonly meaning: string;
  readonly fix: string;
}

export const ERROR_CODES = {
  INVALID_REQUEST: {
    status: 400,
    meaning: "the request body is not a valid access request",
    fix: "send subject {type,id}, action {name} and resource {type,id} as JSON strings; see the field named in the error",
  },
  INVALID_JSON: {
    status: 400,
    meaning: "the body is not well-formed JSON",
    fix: "send a JSON object with Content-Type: application/json",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    meaning: "the body is not application/json",
    fix: "set Content-Type: application/json",
  },
  BODY_TOO_LARGE: {
    status: 413,
    meaning: "the body is larger than the configured limit",
    fix: "send a smaller body or raise the server's body limit",
  },
  BODY_TOO_DEEP: {
    status: 400,
    meaning: "the JSON body nests deeper than the configured limit",
    fix: "flatten the request; context values rarely need more than a few levels",
  },
  UNAUTHENTICATED: {
    status: 401,
    meaning: "the call has no valid API key",
    fix: "send Authorization: Bearer <key> with a key the server was started with",
  },
  FORBIDDEN: {
    status: 403,
    meaning: "the API key lacks the right for this call",
    fix: "use a key with the admin right for outcome and audit calls",
  },
  RATE_LIMITED: {
    status: 429,
    meaning: "the caller exceeded the API's own rate limit",
    fix: "retry after the number of seconds in Retry-After",
  },
  NOT_FOUND: {
    status: 404,
    meaning: "no such route or resource",
    fix: "check the path against /openapi.json",
  },
  UNKNOWN_DECISION: {
    status: 404,
    meaning: "no decision with this id is known",
    fix: "use the decision_id returned by the decision call; old decisions may have passed retention",
  },
  UNKNOWN_OUTCOME: {
    status: 400,
    meaning: "the outcome is not one of the contract's outcomes",
    fix: "send one of step_up_passed, step_up_failed, approved, rejected, confirmed_compromise, false_positive",
  },
  OUTCOME_CONFLICT: {
    status: 409,
    meaning: "the outcome contradicts an earlier final outcome of the same decision",
    fix: "outcomes are final; record a new decision instead of changing an old one",
  },
  EVENT_TIME_INVALID: {
    status: 400,
    meaning: "context.time is missing or not RFC 3339 while the engine runs on event time",
    fix: "send context.time like 2026-11-22T08:00:00Z, in time order per identity",
  },
  POLICY_INVALID: {
    status: 500,
    meaning: "the policy file has errors and cannot be compiled",
    fix: "run `signalbox policy check FILE` and fix every error it lists",
  },
  POLICY_NOT_FOUND: {
    status: 500,
    meaning: "the policy file or a file it references cannot be read",
    fix: "check the path given with --policy and the entities file named inside the policy",
  },
  POLICY_TEST_FAILED: {
    status: 500,
    meaning: "a policy test case did not produce the expected control path or reasons",
    fix: "read the diff printed for the case and fix the policy or the expectation",
  },
  CONFIG_INVALID: {
    status: 500,
    meaning: "a configuration value (flag, environment variable or config file) is invalid",
    fix: "correct the value named in the message; `signalbox serve --help` lists every option",
  },
  STATE_UNAVAILABLE: {
    status: 503,
    meaning: "the state store did not answer within its timeout",
    fix: "check the state store; decisions meanwhile follow each segment's on_error path",
  },
  STATE_UNSUPPORTED: {
    status: 500,
    meaning: "the state adapter cannot perform the requested operation",
    fix: "choose an adapter that supports it (see docs/architecture.md)",
  },
  AUDIT_UNAVAILABLE: {
    status: 503,
    meaning: "the audit store could not commit the decision record",
    fix: "check the audit store; a decision is answered only once its record is committed",
  },
  AUDIT_CHAIN_BROKEN: {
    status: 500,
    meaning: "the audit hash chain does not verify",
    fix: "investigate the record named in the message: it was modified, deleted, inserted or reordered",
  },
  ACCESS_DENIED: {
    status: 403,
    meaning: "a gateway or middleware check was denied by policy (control path deny)",
    fix: "the decision id and reasons in the body say why; report a false positive as an outcome",
  },
  APPROVAL_REQUIRED: {
    status: 403,
    meaning: "a gateway or middleware check is held for approval (control path hold)",
    fix: "submit the access request named in the body's access_request and retry once approved",
  },
  QUARANTINED: {
    status: 403,
    meaning: "a gateway or middleware check was refused because the identity is quarantined",
    fix: "the identity's sessions are being revoked; security operations must clear it",
  },
  STEP_UP_REQUIRED: {
    status: 401,
    meaning: "the gateway asks for stronger or fresher authentication (control path step_up)",
    fix: "people: re-authenticate with the acr_values and max_age of WWW-Authenticate; machines: re-issue the token or re-attest as x-signalbox-reissue says",
  },
  THROTTLED: {
    status: 429,
    meaning: "a gateway or middleware check was throttled by policy (NGINX answers 403 with x-signalbox-retry-after)",
    fix: "retry after the number of seconds in Retry-After",
  },
  INVALID_TOKEN: {
    status: 401,
    meaning: "the bearer JWT at a gateway is malformed, expired, badly signed or fails the issuer or audience check",
    fix: "obtain a new token from the configured issuer; error_description in WWW-Authenticate says what failed",
  },
  SUBJECT_REQUIRED: {
    status: 401,
    meaning: "the gateway request carries no bearer token and no configured subject header",
    fix: "send Authorization: Bearer <JWT>, or configure the proxy to set the subject header",
  },
  ROUTE_NOT_ALLOWED: {
    status: 403,
    meaning: "the gateway request matches no configured route and unmatched routes are denied",
    fix: "add the route template to gateway.routes, or set gateway.unmatchedRoute to path",
  },
  INTERNAL: {
    status: 500,
    meaning: "an unexpected internal error",
    fix: "report it with the request id from the logs",
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;
