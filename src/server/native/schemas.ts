/** JSON Schemas of the native API, for the OpenAPI document. */

export const nativeDecisionSchema = {
  type: "object",
  additionalProperties: true,
  properties: {
    decision: { type: "boolean" },
    decision_id: { type: "string" },
    control_path: { type: "string" },
    risk: { type: "object", properties: { score: { type: "number" }, band: { type: "string" } } },
    segment: { type: "string" },
    reasons: { type: "array", items: { type: "object", additionalProperties: true } },
    obligations: { type: "array", items: { type: "object", additionalProperties: true } },
    findings: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: true,
        properties: {
          detector: { type: "string" },
          code: { type: "string" },
          severity: { type: "string" },
          points: { type: "number" },
          contribution: { type: "number" },
          message: { type: "string" },
          evidence: { type: "object", additionalProperties: true },
        },
      },
    },
    matched: { type: "array", items: { type: "object", additionalProperties: true } },
    policy: { type: "object", properties: { id: { type: "string" }, revision: { type: "string" } } },
    errors: { type: "array", items: { type: "object", additionalProperties: true } },
    time: { type: "string", format: "date-time" },
    timings_us: { type: "object", additionalProperties: { type: "number" } },
  },
};

export const decisionIdParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", description: "the decision_id returned by a decision call" } },
};

export const outcomeBodySchema = {
  type: "object",
  required: ["outcome"],
  properties: {
    outcome: {
      type: "string",
      enum: ["step_up_passed", "step_up_failed", "approved", "rejected", "confirmed_compromise", "false_positive"],
    },
  },
  additionalProperties: true,
};
