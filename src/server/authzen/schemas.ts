/** JSON Schemas of the AuthZEN endpoints, for the OpenAPI document. */

const entity = (required: string[], description: string) => ({
  type: "object",
  description,
  required,
  properties: Object.fromEntries([
    ...required.map((k) => [k, { type: "string", minLength: 1 }]),
    ["properties", { type: "object", additionalProperties: true }],
  ]),
  additionalProperties: true,
});

export const subjectSchema = entity(["type", "id"], "who asks: user, service, agent, ci_job, api_key, device, …");
export const actionSchema = entity(["name"], "what they want to do: login, read, write, an HTTP method, …");
export const resourceSchema = entity(["type", "id"], "what they want to act on");
export const contextSchema = {
  type: "object",
  description: "time, ip, user_agent, geo, device, session, token, authn, workload, transaction, rtt_ms",
  additionalProperties: true,
};

export const evaluationRequestSchema = {
  type: "object",
  required: ["subject", "action", "resource"],
  properties: { subject: subjectSchema, action: actionSchema, resource: resourceSchema, context: contextSchema },
  additionalProperties: true,
};

export const decisionSchema = {
  type: "object",
  required: ["decision"],
  properties: {
    decision: { type: "boolean", description: "true only for allow, limit_session and narrow_scope" },
    context: {
      type: "object",
      additionalProperties: true,
      properties: {
        control_path: {
          type: "string",
          enum: ["allow", "limit_session", "narrow_scope", "throttle", "step_up", "hold", "deny", "quarantine"],
        },
        decision_id: { type: "string" },
        risk: { type: "object", properties: { score: { type: "number" }, band: { type: "string" } } },
        segment: { type: "string" },
        reasons: { type: "array", items: { type: "object", additionalProperties: true } },
        obligations: { type: "array", items: { type: "object", additionalProperties: true } },
      },
    },
  },
};

export const evaluationsRequestSchema = {
  type: "object",
  properties: {
    subject: subjectSchema,
    action: actionSchema,
    resource: resourceSchema,
    context: contextSchema,
    options: {
      type: "object",
      properties: {
        evaluations_semantic: { type: "string", enum: ["execute_all", "deny_on_first_deny", "permit_on_first_permit"] },
      },
      additionalProperties: true,
    },
    evaluations: {
      type: "array",
      description: "items; a member an item leaves out is taken whole from the top level",
      items: { type: "object", additionalProperties: true },
    },
  },
  additionalProperties: true,
};

export const evaluationsResponseSchema = {
  type: "object",
  properties: { evaluations: { type: "array", items: decisionSchema }, decision: { type: "boolean" } },
};

export const problemSchema = {
  type: "object",
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    code: { type: "string" },
    errors: {
      type: "array",
      items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } },
    },
  },
};

/** A problem response with its own description. */
export function problemResponse(description: string) {
  return { ...problemSchema, description: `${description} (application/problem+json)` };
}

export const problemResponses = {
  400: problemResponse("invalid request"),
  401: problemResponse("missing or invalid API key"),
  403: problemResponse("the API key lacks the right"),
  413: problemResponse("body too large"),
};
