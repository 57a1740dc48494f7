/**
 * Signalbox's own AuthZEN conformance runner: reads the interop and certification case files and
 * checks a PDP over real HTTP the way the official harnesses do (verbatim `Authorization` header,
 * fixed default paths), comparing decisions semantically and batches also exactly, and search
 * results after sorting them as the search-demo runner does.
 */

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";

/** Where CI puts the shared conformance data: `shared/` beside the repository. */
export const AUTHZEN_DIR = resolve(import.meta.dirname, "..", "..", "..", "shared", "conformance", "authzen");

export const AUTHZEN_FILES = {
  todo02: "interop/authzen-todo-backend/test/decisions-authorization-api-1_0-02.json",
  todo01: "interop/authzen-todo-backend/test/decisions-authorization-api-1_0-01.json",
  gateway: "interop/authzen-api-gateways/test-harness/test/decisions.json",
  certification: "derived/certification-cases.json",
  searchSubject: "interop/authzen-search-demo/test-harness/src/subject/results.json",
  searchResource: "interop/authzen-search-demo/test-harness/src/resource/results.json",
  searchAction: "interop/authzen-search-demo/test-harness/src/action/results.json",
  idp: "interop/authzen-idp/test-harness/src/results.json",
} as const;

export function conformanceDataPresent(): boolean {
  return Object.values(AUTHZEN_FILES).every((f) => existsSync(resolve(AUTHZEN_DIR, f)));
}

type Json = Record<string, unknown>;

function readJson(file: string): Json {
  return JSON.parse(readFileSync(resolve(AUTHZEN_DIR, file), "utf8")) as Json;
}

/** One check against a PDP; `run` resolves to undefined on a pass or to what went wrong. */
export interface ConformanceCase {
  readonly name: string;
  run(baseUrl: string): Promise<string | undefined>;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: unknown;
}

/**
 * Posts like the official runners: JSON content type and the `Authorization` header verbatim,
 * which is the literal `undefined` when the harness has no API key.
 */
export async function post(
  baseUrl: string,
  path: string,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<HttpAnswer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "undefined", ...headers },
    body,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const decisionOf = (json: unknown): boolean =>
  typeof json === "object" && json !== null && (json as { decision?: unknown }).decision === true;

function evaluationCase(name: string, request: unknown, expected: boolean): ConformanceCase {
  return {
    name,
    async run(baseUrl) {
      const res = await post(baseUrl, "/access/v1/evaluation", JSON.stringify(request));
      if (res.status !== 200) return `status ${res.status}: ${res.text}`;
      const got = decisionOf(res.json);
      return got === expected ? undefined : `decision ${got}, expected ${expected}`;
    },
  };
}

/** A batch: item decisions compared in order; with `exact`, the body must match the official runner's string compare. */
function evaluationsCase(
  name: string,
  request: unknown,
  expected: readonly boolean[],
  exact: boolean,
): ConformanceCase {
  return {
    name,
    async run(baseUrl) {
      const res = await post(baseUrl, "/access/v1/evaluations", JSON.stringify(request));
      if (res.status !== 200) return `status ${res.status}: ${res.text}`;
      const items = (res.json as { evaluations?: unknown }).evaluations;
      if (!Array.isArray(items)) return `no evaluations array in ${res.text}`;
      const got = items.map(decisionOf);
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        return `decisions ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`;
      }
      if (exact) {
        const want = JSON.stringify(expected.map((decision) => ({ decision })));
        if (JSON.stringify(items) !== want) return `not an exact match: ${JSON.stringify(items)} vs ${want}`;
      }
      return undefined;
    },
  };
}

interface InteropFile {
  evaluation?: { request: unknown; expected: boolean }[];
  evaluations?: { request: unknown; expected: { decision: boolean }[] }[];
}

/** Every case of a Todo or API-gateway decisions file. */
export function interopCases(file: string, label: string, exactBatches: boolean): ConformanceCase[] {
  const data = readJson(file) as InteropFile;
  const cases: ConformanceCase[] = [];
  for (const [i, c] of (data.evaluation ?? []).entries()) {
    const r = c.request as { subject?: { id?: string }; action?: { name?: string }; resource?: { id?: string } };
    cases.push(
      evaluationCase(
        `${label} evaluation #${i} ${r.action?.name} ${r.resource?.id} → ${c.expected}`,
        c.request,
        c.expected,
      ),
    );
  }
  for (const [i, c] of (data.evaluations ?? []).entries()) {
    cases.push(
      evaluationsCase(
        `${label} evaluations #${i}`,
        c.request,
        c.expected.map((e) => e.decision),
        exactBatches,
      ),
    );
  }
  return cases;
}

interface CertCase {
  id: string;
  note?: string;
  request?: unknown;
  expect_status: number;
  expected?: unknown;
  expected_single?: { decision: boolean };
  expected_length?: number;
}

const VALID = JSON.stringify({
  subject: { type: "user", id: "alice" },
  action: { name: "read" },
  resource: { type: "record", id: "record-1" },
});

/** Error cases without a JSON request: the body or content type is the thing under test. */
const RAW_ERROR_BODIES: Readonly<Record<string, { body: string; headers?: Record<string, string> }>> = {
  "c-2-4-3": { body: VALID, headers: { "content-type": "text/plain" } },
  "c-2-4-4": { body: '{"subject": {"type": "user", "id": "alice"}, "action": ' },
  "c-2-4-5": { body: "" },
};

function statusCase(name: string, path: string, body: string, status: number, headers?: Record<string, string>) {
  return {
    name,
    async run(baseUrl: string) {
      const res = await post(baseUrl, path, body, headers);
      if (res.status !== status) return `status ${res.status}, expected ${status}: ${res.text}`;
      if (status >= 400 && !(res.headers.get("content-type") ?? "").startsWith("application/problem+json")) {
        return `error without a problem body: ${res.headers.get("content-type")}`;
      }
      return undefined;
    },
  } satisfies ConformanceCase;
}

/** The certification scenario's decision, error, batch, search, header and discovery cases. */
export function certificationCases(): ConformanceCase[] {
  const data = readJson(AUTHZEN_FILES.certification) as {
    evaluation: CertCase[];
    evaluation_errors: CertCase[];
    evaluations: CertCase[];
  };
  const cases: ConformanceCase[] = [];
  for (const c of data.evaluation) {
    cases.push(evaluationCase(`certification ${c.id}`, c.request, (c.expected as { decision: boolean }).decision));
  }
  for (const c of data.evaluation_errors) {
    const raw = RAW_ERROR_BODIES[c.id];
    const body = raw ? raw.body : JSON.stringify(c.request);
    cases.push(
      statusCase(
        `certification ${c.id} → ${c.expect_status}`,
        "/access/v1/evaluation",
        body,
        c.expect_status,
        raw?.headers,
      ),
    );
  }
  for (const c of data.evaluations) {
    const name = `certification ${c.id}`;
    if (Array.isArray(c.expected)) {
      cases.push(evaluationsCase(name, c.request, c.expected as boolean[], false));
    } else if (c.expected_single) {
      const expected = c.expected_single.decision;
      cases.push({
        name,
        async run(baseUrl) {
          const res = await post(baseUrl, "/access/v1/evaluations", JSON.stringify(c.request));
          if (res.status !== 200) return `status ${res.status}`;
          const json = res.json as { decision?: unknown; evaluations?: unknown };
          if (json.evaluations !== undefined) return "answered a batch where a single decision was due";
          return json.decision === expected ? undefined : `decision ${String(json.decision)}, expected ${expected}`;
        },
      });
    } else {
      const length = c.expected_length ?? 0;
      cases.push({
        name,
        async run(baseUrl) {
          const res = await post(baseUrl, "/access/v1/evaluations", JSON.stringify(c.request));
          const items = (res.json as { evaluations?: unknown[] } | undefined)?.evaluations;
          if (res.status !== 200 || !Array.isArray(items)) return `status ${res.status}: ${res.text}`;
          if (items.length !== length) return `${items.length} items, expected ${length}`;
          return items.every((i) => typeof (i as { decision?: unknown }).decision === "boolean")
            ? undefined
            : "an item without a boolean decision";
        },
      });
    }
  }
  cases.push(...certificationSearchCases(), ...headerCases(), ...discoveryCases());
  return cases;
}

function headerCases(): ConformanceCase[] {
  return [
    {
      name: "certification c-2-5-1 X-Request-ID is echoed",
      async run(baseUrl) {
        const res = await post(baseUrl, "/access/v1/evaluation", VALID, { "x-request-id": "bfe9eb29-ab87-4ca3" });
        return res.headers.get("x-request-id") === "bfe9eb29-ab87-4ca3" ? undefined : "X-Request-ID not echoed";
      },
    },
    {
      name: "certification c-2-5-2 absent X-Request-ID does not fail",
      async run(baseUrl) {
        const res = await post(baseUrl, "/access/v1/evaluation", VALID);
        return res.status === 200 ? undefined : `status ${res.status}`;
      },
    },
    {
      name: "certification c-2-6 the same request gets the same decision",
      async run(baseUrl) {
        const answers = await Promise.all([0, 1, 2].map(() => post(baseUrl, "/access/v1/evaluation", VALID)));
        const decisions = new Set(answers.map((a) => decisionOf(a.json)));
        return decisions.size === 1 ? undefined : "decisions differ between identical requests";
      },
    },
  ];
}

async function metadata(baseUrl: string, headers: Record<string, string> = {}): Promise<Json | string> {
  const res = await fetch(`${baseUrl}/.well-known/authzen-configuration`, { headers });
  if (res.status !== 200) return `status ${res.status}`;
  if (!(res.headers.get("content-type") ?? "").startsWith("application/json")) return "not application/json";
  return (await res.json()) as Json;
}

function checkMetadata(m: Json, base: string): string | undefined {
  if (m.policy_decision_point !== base) return `policy_decision_point ${String(m.policy_decision_point)} ≠ ${base}`;
  if (m.access_evaluation_endpoint !== `${base}/access/v1/evaluation`) return "access_evaluation_endpoint is wrong";
  for (const [k, v] of Object.entries(m)) {
    if (k.endsWith("_endpoint") && (typeof v !== "string" || !v.startsWith(base))) return `${k} is not under ${base}`;
  }
  const caps = m.capabilities;
  if (caps !== undefined && !(Array.isArray(caps) && caps.every((c) => typeof c === "string"))) {
    return "capabilities is not an array of strings";
  }
  return undefined;
}

/**
 * Discovery over plain HTTP names the base URL as requested; behind a TLS-terminating proxy
 * (trusted `X-Forwarded-Proto: https`) every URL is https, which is what certification checks.
 */
function discoveryCases(): ConformanceCase[] {
  return [
    {
      name: "certification c-6 metadata names the base URL",
      async run(baseUrl) {
        const m = await metadata(baseUrl);
        return typeof m === "string" ? m : checkMetadata(m, baseUrl);
      },
    },
    {
      name: "certification c-6 metadata is https behind a TLS proxy",
      async run(baseUrl) {
        const host = new URL(baseUrl).host;
        const m = await metadata(baseUrl, { "x-forwarded-proto": "https", "x-forwarded-host": host });
        return typeof m === "string" ? m : checkMetadata(m, `https://${host}`);
      },
    },
  ];
}

export type SearchEndpoint = "subject" | "resource" | "action";
type SearchResult = Record<string, unknown>;

const searchPath = (endpoint: SearchEndpoint) => `/access/v1/search/${endpoint}`;

/**
 * The search-demo runner's order: by `type` then `id`, or by `name`, after dropping null values.
 * Ids must be strings, as the runner's `localeCompare` throws on anything else.
 */
function sortedResults(results: readonly unknown[]): SearchResult[] | string {
  const out: SearchResult[] = [];
  for (const r of results) {
    if (typeof r !== "object" || r === null) return `a result that is not an object: ${JSON.stringify(r)}`;
    const entry = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null));
    for (const k of ["type", "id", "name"]) {
      if (k in entry && typeof entry[k] !== "string") return `result ${JSON.stringify(r)}: "${k}" is not a string`;
    }
    out.push(entry);
  }
  const key = (r: SearchResult) => `${String(r.type ?? "")}\u0000${String(r.id ?? "")}\u0000${String(r.name ?? "")}`;
  return out.sort((a, b) => key(a).localeCompare(key(b)));
}

async function searchResults(
  baseUrl: string,
  endpoint: SearchEndpoint,
  request: unknown,
  headers?: Record<string, string>,
): Promise<{ res: HttpAnswer; results: SearchResult[] } | string> {
  const res = await post(baseUrl, searchPath(endpoint), JSON.stringify(request), headers);
  if (res.status !== 200) return `status ${res.status}: ${res.text}`;
  if (!(res.headers.get("content-type") ?? "").startsWith("application/json")) return "not application/json";
  const results = (res.json as { results?: unknown } | undefined)?.results;
  if (!Array.isArray(results)) return `no results array in ${res.text}`;
  const sorted = sortedResults(results);
  return typeof sorted === "string" ? sorted : { res, results: sorted };
}

/** A search whose sorted results must equal the expected ones exactly: extra results fail. */
function exactSearchCase(name: string, endpoint: SearchEndpoint, request: unknown, expected: unknown[]) {
  return {
    name,
    async run(baseUrl: string) {
      const got = await searchResults(baseUrl, endpoint, request);
      if (typeof got === "string") return got;
      const want = sortedResults(expected);
      if (typeof want === "string") return `bad expectation: ${want}`;
      const [a, b] = [JSON.stringify(got.results), JSON.stringify(want)];
      return a === b ? undefined : `results ${a}, expected ${b}`;
    },
  } satisfies ConformanceCase;
}

/**
 * Walks a search one result per page and checks the pages add up to the unpaged answer, each page
 * but the last naming a next token and the last naming "".
 */
export function pagedSearchCase(name: string, endpoint: SearchEndpoint, request: Record<string, unknown>) {
  return {
    name,
    async run(baseUrl: string) {
      const whole = await searchResults(baseUrl, endpoint, request);
      if (typeof whole === "string") return whole;
      const pages: SearchResult[] = [];
      let token: string | undefined;
      for (let n = 0; n <= whole.results.length + 1; n++) {
        const page = token === undefined ? { limit: 1 } : { limit: 1, token };
        const got = await searchResults(baseUrl, endpoint, { ...request, page });
        if (typeof got === "string") return `page ${n}: ${got}`;
        const next = (got.res.json as { page?: { next_token?: unknown } }).page?.next_token;
        if (typeof next !== "string") return `page ${n}: no page.next_token string in ${got.res.text}`;
        if (got.results.length > 1) return `page ${n}: ${got.results.length} results for limit 1`;
        pages.push(...got.results);
        if (next === "") {
          const [a, b] = [JSON.stringify(sortedResults(pages)), JSON.stringify(whole.results)];
          return a === b ? undefined : `pages ${a} differ from the unpaged ${b}`;
        }
        if (got.results.length === 0) return `page ${n}: an empty page that says more follow`;
        token = next;
      }
      return "the pages never ended";
    },
  } satisfies ConformanceCase;
}

interface SearchFileCase {
  request: Record<string, { type?: string; id?: string; name?: string }>;
  expected: { results: unknown[] };
}

const describeSearch = (r: SearchFileCase["request"]) =>
  `${r.subject?.id ?? r.subject?.type} ${r.action?.name ?? "?"} ${r.resource?.id ?? r.resource?.type}`;

/** Every case of a search-demo results file (top-level `evaluation`) or the IdP file (`search`), compared by id. */
export function searchInteropCases(file: string, label: string, endpoint: SearchEndpoint): ConformanceCase[] {
  const data = readJson(file) as { evaluation?: SearchFileCase[]; search?: SearchFileCase[] };
  return (data.evaluation ?? data.search ?? []).map((c, i) =>
    exactSearchCase(
      `${label} #${i} ${describeSearch(c.request)} → ${c.expected.results.length}`,
      endpoint,
      c.request,
      c.expected.results,
    ),
  );
}

interface CertSearchCase {
  id: string;
  endpoint: SearchEndpoint;
  request: Record<string, unknown>;
  expect_status: number;
  must_include?: SearchResult[];
  expected_exact?: unknown;
}

/** The certification search cases: results that must be included, exact empty answers, and 400s. */
function certificationSearchCases(): ConformanceCase[] {
  const data = readJson(AUTHZEN_FILES.certification) as { search: CertSearchCase[] };
  const cases: ConformanceCase[] = [];
  for (const c of data.search) {
    const name = `certification ${c.id} (${c.endpoint} search) → ${c.expect_status}`;
    if (c.expect_status !== 200) {
      cases.push(statusCase(name, searchPath(c.endpoint), JSON.stringify(c.request), c.expect_status));
      continue;
    }
    cases.push({
      name,
      async run(baseUrl) {
        const got = await searchResults(baseUrl, c.endpoint, c.request);
        if (typeof got === "string") return got;
        if (c.expected_exact !== undefined) {
          return JSON.stringify(got.res.json) === JSON.stringify(c.expected_exact)
            ? undefined
            : `answer ${got.res.text}, expected exactly ${JSON.stringify(c.expected_exact)}`;
        }
        const searchedType = c.endpoint === "action" ? undefined : (c.request[c.endpoint] as { type: string }).type;
        for (const r of got.results) {
          if (c.endpoint === "action" ? typeof r.name !== "string" : r.type !== searchedType) {
            return `result ${JSON.stringify(r)} is not of the searched-for kind`;
          }
        }
        const keyOf = (r: SearchResult) => JSON.stringify([r.type, r.id, r.name]);
        const have = new Set(got.results.map(keyOf));
        const missing = (c.must_include ?? []).filter((r) => !have.has(keyOf(r)));
        if (missing.length > 0) return `missing ${JSON.stringify(missing)} in ${got.res.text}`;
        const page = (got.res.json as { page?: unknown }).page;
        if (page !== undefined) {
          if (typeof page !== "object" || page === null) return "page is not an object";
          const next = (page as { next_token?: unknown }).next_token;
          if (next !== undefined && typeof next !== "string") return "page.next_token is not a string";
        }
        return undefined;
      },
    });
  }
  cases.push(
    {
      name: "certification c-4-5-2 a page token walks to an empty next_token",
      async run(baseUrl) {
        const base = {
          subject: { type: "user" },
          action: { name: "read" },
          resource: { type: "record", id: "record-1" },
        };
        return pagedSearchCase("", "subject", base).run(baseUrl);
      },
    },
    {
      name: "certification c-2-5-1 X-Request-ID is echoed by search",
      async run(baseUrl) {
        const body = { subject: { type: "user", id: "alice" }, resource: { type: "record", id: "record-1" } };
        const res = await post(baseUrl, searchPath("action"), JSON.stringify(body), { "x-request-id": "search-42" });
        return res.headers.get("x-request-id") === "search-42" ? undefined : "X-Request-ID not echoed";
      },
    },
  );
  return cases;
}
