/**
 * `POST /access/v1/search/{subject,resource,action}`: AuthZEN search. Every candidate the policy's
 * `search:` section offers is decided by the engine, and only allowed ones are results.
 */

import type { FastifyInstance } from "fastify";
import type { Engine } from "../../engine/engine.js";
import { type SearchCandidate, type SearchKind, searchCandidates } from "../../policy/search.js";
import { NO_VALIDATION } from "../openapi.js";
import type { Runtime } from "../runtime.js";
import { problemResponses } from "./schemas.js";
import { decodePageToken, encodePageToken, searchFingerprint } from "./search-page.js";
import { parseSearch } from "./search-request.js";
import {
  actionSearchRequestSchema,
  actionSearchResponseSchema,
  entitySearchResponseSchema,
  resourceSearchRequestSchema,
  subjectSearchRequestSchema,
} from "./search-schemas.js";

type Result = SearchCandidate["result"];

export interface SearchPage {
  readonly results: Result[];
  /** Where the next page starts, or undefined on the last page. */
  readonly next?: number;
}

/** Most candidates decided at once: enough to keep the engine busy, few enough to not over-decide a page. */
const BATCH = 32;

/**
 * Decides candidates in order from `start` until `limit` are allowed, then looks ahead for one more,
 * so that a page that says more follow never leads to an empty last page.
 */
export async function searchPage(
  engine: Engine,
  candidates: readonly SearchCandidate[],
  start: number,
  limit: number,
): Promise<SearchPage> {
  const results: Result[] = [];
  let i = start;
  while (i < candidates.length) {
    const size = Math.min(BATCH, candidates.length - i, Number.isFinite(limit) ? limit - results.length + 1 : BATCH);
    const batch = candidates.slice(i, i + size);
    const decisions = await Promise.all(batch.map((c) => engine.decide(c.request)));
    for (const [j, d] of decisions.entries()) {
      const candidate = batch[j];
      if (!d.decision || candidate === undefined) continue;
      if (results.length === limit) return { results, next: i + j };
      results.push(candidate.result);
    }
    i += size;
  }
  return { results };
}

const ROUTES: Readonly<Record<SearchKind, { summary: string; body: object; response: object }>> = {
  subject: {
    summary: "Subject search: who may do this action on this resource",
    body: subjectSearchRequestSchema,
    response: entitySearchResponseSchema,
  },
  resource: {
    summary: "Resource search: what this subject may do this action on",
    body: resourceSearchRequestSchema,
    response: entitySearchResponseSchema,
  },
  action: {
    summary: "Action search: what this subject may do on this resource",
    body: actionSearchRequestSchema,
    response: actionSearchResponseSchema,
  },
};

export function registerSearchRoute(app: FastifyInstance, runtime: Runtime, kind: SearchKind): void {
  const route = ROUTES[kind];
  app.post(
    `/access/v1/search/${kind}`,
    {
      schema: {
        tags: ["authzen"],
        summary: route.summary,
        description:
          "Candidates come from the policy's `search:` section; each is decided like an evaluation and only allowed ones are returned, in a stable order. An unknown type or id gives empty results.",
        body: route.body,
        response: { 200: route.response, ...problemResponses },
      },
      validatorCompiler: NO_VALIDATION,
      config: { right: "decide", face: "authzen" },
    },
    async (request) => {
      const { search, page } = parseSearch(kind, request.body);
      const engine = runtime.engine;
      const policy = engine.policy;
      // over the parsed search, so members the search ignores (the searched-for id) may change between pages
      const fingerprint = searchFingerprint(kind, { ...search }, `${policy.id}@${policy.revision}`);
      const start = page?.token === undefined ? 0 : decodePageToken(page.token, fingerprint);
      const candidates = searchCandidates(policy, kind, search);
      const found = await searchPage(engine, candidates, start, page?.limit ?? Number.POSITIVE_INFINITY);
      const nextToken = found.next === undefined ? "" : encodePageToken(found.next, fingerprint);
      // the spec recommends `page` first; without a page asked for or due, the answer is exactly {results}
      if (page === undefined && nextToken === "") return { results: found.results };
      return { page: { next_token: nextToken }, results: found.results };
    },
  );
}
