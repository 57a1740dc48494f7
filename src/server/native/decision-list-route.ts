/** `GET /v1/decisions`: audit records filtered by subject, segment, path, reason and time, page by page. */

import type { FastifyInstance } from "fastify";
import type { AuditFilter, AuditStore } from "../../audit/store.js";
import type { Problem } from "../../errors/signalbox-error.js";
import { SignalboxError } from "../../errors/signalbox-error.js";
import { isControlPath } from "../../model/control-path.js";
import { problemResponses } from "../authzen/schemas.js";
import { NO_VALIDATION } from "../openapi.js";
import type { Runtime } from "../runtime.js";

const MAX_LIMIT = 500;

/** The audit trail's reading side, when the configured trail has one (the memory trail does not). */
export function auditStoreOf(runtime: Runtime): Pick<AuditStore, "query"> | undefined {
  const audit = runtime.engine.audit as unknown as Partial<AuditStore>;
  return typeof audit.query === "function" ? (audit as Pick<AuditStore, "query">) : undefined;
}

type Query = Record<string, string | undefined>;

function timeOf(raw: string, name: string, problems: Problem[]): number | undefined {
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (Number.isNaN(ms)) problems.push({ path: name, message: `"${name}" value "${raw}" is not RFC 3339 or epoch ms` });
  return ms;
}

/** The filter, cursor and limit of a query string; throws `INVALID_REQUEST` naming every bad parameter. */
export function parseListQuery(q: Query): { filter: AuditFilter; cursor?: string; limit: number } {
  const problems: Problem[] = [];
  const filter: { -readonly [K in keyof AuditFilter]: AuditFilter[K] } = { kind: "decision" };
  if (q.subject) filter.subject = q.subject;
  if (q.segment) filter.segment = q.segment;
  if (q.reason) filter.reason = q.reason;
  if (q.decision_id) filter.decisionId = q.decision_id;
  if (q.control_path) {
    if (isControlPath(q.control_path)) filter.controlPath = q.control_path;
    else
      problems.push({
        path: "control_path",
        message: `"control_path" value "${q.control_path}" is not a control path`,
      });
  }
  if (q.from) filter.from = timeOf(q.from, "from", problems);
  if (q.to) filter.to = timeOf(q.to, "to", problems);
  if (q.shadow !== undefined) {
    if (q.shadow === "true" || q.shadow === "false") filter.shadow = q.shadow === "true";
    else problems.push({ path: "shadow", message: `"shadow" value "${q.shadow}" is not true or false` });
  }
  let limit = 50;
  if (q.limit !== undefined) {
    limit = Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      problems.push({ path: "limit", message: `"limit" value "${q.limit}" is not an integer from 1 to ${MAX_LIMIT}` });
    }
  }
  const first = problems[0];
  if (first) throw new SignalboxError("INVALID_REQUEST", first.message, { problems });
  return { filter, ...(q.cursor ? { cursor: q.cursor } : {}), limit };
}

export function registerDecisionListRoute(app: FastifyInstance, runtime: Runtime): void {
  const store = auditStoreOf(runtime);
  if (!store) return;
  app.get<{ Querystring: Query }>(
    "/v1/decisions",
    {
      schema: {
        tags: ["native"],
        summary: "Query decisions in the audit trail",
        querystring: {
          type: "object",
          properties: {
            subject: { type: "string", description: "identity key type:id" },
            segment: { type: "string" },
            control_path: { type: "string" },
            reason: { type: "string", description: "a reason code" },
            decision_id: { type: "string" },
            from: { type: "string", description: "event time, RFC 3339 or epoch ms (inclusive)" },
            to: { type: "string", description: "event time, RFC 3339 or epoch ms (exclusive)" },
            shadow: { type: "string", enum: ["true", "false"] },
            cursor: { type: "string", description: "the next value of the previous page" },
            limit: { type: "string", description: `1 to ${MAX_LIMIT}, default 50` },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              records: { type: "array", items: { type: "object", additionalProperties: true } },
              next: { type: "string" },
            },
          },
          400: problemResponses[400],
        },
      },
      validatorCompiler: NO_VALIDATION,
      config: { right: "admin", face: "native" },
    },
    async (request) => {
      const { filter, cursor, limit } = parseListQuery(request.query);
      const page = await store.query(filter, cursor, limit);
      return page.next === undefined ? { records: page.records } : { records: page.records, next: page.next };
    },
  );
}
