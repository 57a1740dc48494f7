/** Validates an AuthZEN search body: the searched-for entity needs only a type, every input entity is whole. */

import { checkEntity } from "../../engine/validate-request.js";
import { type Problem, SignalboxError } from "../../errors/signalbox-error.js";
import type { JsonObject, RequestContext } from "../../model/request.js";
import type { SearchKind, SearchRequest } from "../../policy/search.js";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The page a caller asked for: a token from the previous answer and the most results wanted. */
export interface PageRequest {
  readonly token?: string;
  readonly limit?: number;
}

export interface ParsedSearch {
  readonly search: SearchRequest;
  /** Present when the body had a `page` object, so the answer carries `page` too. */
  readonly page?: PageRequest;
}

/** The members each kind needs; the searched-for entity's `id` is left out, and ignored if sent. */
const REQUIRED: Readonly<Record<SearchKind, Readonly<Record<"subject" | "action" | "resource", readonly string[]>>>> = {
  subject: { subject: ["type"], action: ["name"], resource: ["type", "id"] },
  resource: { subject: ["type", "id"], action: ["name"], resource: ["type"] },
  action: { subject: ["type", "id"], action: [], resource: ["type", "id"] },
};

function checkPage(page: unknown, problems: Problem[]): void {
  if (page === undefined) return;
  if (!isObject(page)) {
    problems.push({ path: "page", message: `"page" must be an object` });
    return;
  }
  if (page.token !== undefined && typeof page.token !== "string") {
    problems.push({ path: "page.token", message: `"page.token" must be a string` });
  }
  const limit = page.limit;
  if (limit !== undefined && !(typeof limit === "number" && Number.isSafeInteger(limit) && limit >= 0)) {
    problems.push({ path: "page.limit", message: `"page.limit" must be a non-negative integer, not ${String(limit)}` });
  }
}

/** Problems with a search body for this endpoint, empty when it is valid. Unknown members are ignored. */
export function searchProblems(kind: SearchKind, body: unknown): Problem[] {
  if (!isObject(body)) return [{ path: "", message: "the request must be a JSON object" }];
  const problems: Problem[] = [];
  const required = REQUIRED[kind];
  checkEntity(body.subject, "subject", required.subject, problems);
  if (kind !== "action") checkEntity(body.action, "action", required.action, problems);
  checkEntity(body.resource, "resource", required.resource, problems);
  if (body.context !== undefined && !isObject(body.context)) {
    problems.push({ path: "context", message: `"context" must be an object` });
  }
  checkPage(body.page, problems);
  return problems;
}

type Entity = { type: string; id?: string; properties?: JsonObject };

/** The entity as the engine will see it: only the members AuthZEN defines, without the id a search ignores. */
function entity(value: Json, keepId: boolean): Entity {
  const out: Entity = { type: value.type as string };
  if (keepId) out.id = value.id as string;
  if (value.properties !== undefined) out.properties = value.properties as JsonObject;
  return out;
}

/** Parses a search body for one endpoint; throws `INVALID_REQUEST` naming every problem. */
export function parseSearch(kind: SearchKind, body: unknown): ParsedSearch {
  const problems = searchProblems(kind, body);
  const first = problems[0];
  if (first) throw new SignalboxError("INVALID_REQUEST", first.message, { problems });
  const b = body as Json;
  const subject = entity(b.subject as Json, kind !== "subject");
  const resource = entity(b.resource as Json, kind !== "resource");
  const actionBody = kind === "action" ? undefined : (b.action as Json);
  const action =
    actionBody === undefined
      ? undefined
      : actionBody.properties === undefined
        ? { name: actionBody.name as string }
        : { name: actionBody.name as string, properties: actionBody.properties as JsonObject };
  const search: SearchRequest = {
    subject,
    resource,
    ...(action ? { action } : {}),
    ...(b.context === undefined ? {} : { context: b.context as RequestContext }),
  };
  if (!isObject(b.page)) return { search };
  const page: PageRequest = {
    ...(typeof b.page.token === "string" && b.page.token !== "" ? { token: b.page.token } : {}),
    ...(typeof b.page.limit === "number" && b.page.limit > 0 ? { limit: b.page.limit } : {}),
  };
  return { search, page };
}
