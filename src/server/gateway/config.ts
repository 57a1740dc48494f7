/** The gateway faces' configuration: token verification, subject headers, routes, proxy trust. */

import type { Problem } from "../../errors/index.js";
import { SignalboxError } from "../../errors/index.js";

/** One route template the gateway maps request paths onto, e.g. `GET /todos/{todoId}`. */
export interface GatewayRoute {
  /** HTTP method (upper case); absent means any method. */
  readonly method?: string;
  /** Path template: literal segments and `{name}` placeholders, e.g. `/todos/{todoId}`. */
  readonly path: string;
  /** Copied to `resource.properties.sensitivity`. */
  readonly sensitivity?: string;
  /** Copied to `action.properties.privileged`. */
  readonly privileged?: boolean;
}

/** How bearer JWTs are verified; exactly one of `jwksFile` and `jwksUrl`. */
export interface GatewayJwtConfig {
  readonly jwksFile?: string;
  readonly jwksUrl?: string;
  readonly issuer?: string | readonly string[];
  readonly audience?: string | readonly string[];
  /** Accepted JWS algorithms; default the asymmetric ones (`RS256`, `PS256`, `ES256`, `EdDSA`, …). */
  readonly algorithms: readonly string[];
  /** Leeway for `exp`/`nbf` in seconds; default 0. */
  readonly clockToleranceSec: number;
  /** A claim whose string value becomes the subject type (e.g. `sub_type`); default none. */
  readonly subjectTypeClaim?: string;
}

/** Headers a trusted proxy sets to name the subject when there is no bearer JWT. */
export interface GatewaySubjectHeaders {
  /** Header carrying the subject id, e.g. `x-user-id` (lower case). */
  readonly id: string;
  /** Header carrying the subject type, e.g. `x-subject-type` (lower case); optional. */
  readonly type?: string;
}

export interface GatewayConfig {
  readonly jwt?: GatewayJwtConfig;
  readonly subjectHeaders?: GatewaySubjectHeaders;
  /** Subject type when neither a claim nor a header gives one. Default `user`. */
  readonly subjectType: string;
  readonly routes: readonly GatewayRoute[];
  /** What an unmatched path becomes: a `route` resource named by the path, or a deny. Default `path`. */
  readonly unmatchedRoute: "path" | "deny";
  /** Take the client address from the first `x-forwarded-for` hop. Only for a proxy you trust. */
  readonly trustForwardedFor: boolean;
  /** Headers the upstream must not see after an allow (e.g. `authorization`); lower case. */
  readonly removeHeaders: readonly string[];
  /** Realm in `WWW-Authenticate` challenges. Default `signalbox`. */
  readonly realm: string;
}

/** What callers may pass before defaults are filled in: every key optional. */
export type GatewayConfigInput = Partial<Omit<GatewayConfig, "jwt" | "subjectHeaders">> & {
  readonly jwt?: Partial<GatewayJwtConfig>;
  readonly subjectHeaders?: GatewaySubjectHeaders;
};

export const DEFAULT_JWT_ALGORITHMS: readonly string[] = Object.freeze([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
]);

const TOP_KEYS = new Set([
  "jwt",
  "subjectHeaders",
  "subjectType",
  "routes",
  "unmatchedRoute",
  "trustForwardedFor",
  "removeHeaders",
  "realm",
]);
const JWT_KEYS = new Set([
  "jwksFile",
  "jwksUrl",
  "issuer",
  "audience",
  "algorithms",
  "clockToleranceSec",
  "subjectTypeClaim",
]);
const ROUTE_KEYS = new Set(["method", "path", "sensitivity", "privileged"]);
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const METHOD = /^[A-Z]+$/;

/**
 * Checks a raw gateway configuration (from a config file or code) and fills in defaults. Throws
 * `CONFIG_INVALID` listing every problem, each naming its key under `prefix`.
 */
export function parseGatewayConfig(raw: unknown, prefix = "gateway"): GatewayConfig {
  const problems: Problem[] = [];
  const bad = (path: string, message: string) => problems.push({ path, message: `${path}: ${message}` });
  const obj = raw === undefined ? {} : raw;
  if (!isRecord(obj)) {
    throw new SignalboxError("CONFIG_INVALID", `${prefix}: must be an object`, {
      problems: [{ path: prefix, message: "must be an object" }],
    });
  }
  for (const key of Object.keys(obj)) if (!TOP_KEYS.has(key)) bad(`${prefix}.${key}`, `unknown key "${key}"`);

  const jwt = obj.jwt === undefined ? undefined : parseJwt(obj.jwt, `${prefix}.jwt`, bad);
  const subjectHeaders =
    obj.subjectHeaders === undefined
      ? undefined
      : parseSubjectHeaders(obj.subjectHeaders, `${prefix}.subjectHeaders`, bad);
  const subjectType = optionalString(obj.subjectType, `${prefix}.subjectType`, bad) ?? "user";
  const routes: GatewayRoute[] = [];
  if (obj.routes !== undefined) {
    if (!Array.isArray(obj.routes)) bad(`${prefix}.routes`, "must be a list of routes");
    else
      obj.routes.forEach((r, i) => {
        const route = parseRoute(r, `${prefix}.routes[${i}]`, bad);
        if (route) routes.push(route);
      });
  }
  let unmatchedRoute: "path" | "deny" = "path";
  if (obj.unmatchedRoute !== undefined) {
    if (obj.unmatchedRoute === "path" || obj.unmatchedRoute === "deny") unmatchedRoute = obj.unmatchedRoute;
    else bad(`${prefix}.unmatchedRoute`, `must be "path" or "deny", not ${JSON.stringify(obj.unmatchedRoute)}`);
  }
  let trustForwardedFor = false;
  if (obj.trustForwardedFor !== undefined) {
    if (typeof obj.trustForwardedFor === "boolean") trustForwardedFor = obj.trustForwardedFor;
    else bad(`${prefix}.trustForwardedFor`, "must be true or false");
  }
  const removeHeaders = headerList(obj.removeHeaders, `${prefix}.removeHeaders`, bad);
  const realm = optionalString(obj.realm, `${prefix}.realm`, bad) ?? "signalbox";
  if (realm.includes('"') || realm.includes("\\")) bad(`${prefix}.realm`, "must not contain quotes or backslashes");

  if (problems.length > 0) {
    const first = problems[0]?.message ?? prefix;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    throw new SignalboxError("CONFIG_INVALID", `invalid gateway configuration: ${first}${more}`, { problems });
  }
  return Object.freeze({
    ...(jwt ? { jwt } : {}),
    ...(subjectHeaders ? { subjectHeaders } : {}),
    subjectType,
    routes: Object.freeze(routes),
    unmatchedRoute,
    trustForwardedFor,
    removeHeaders,
    realm,
  });
}

type Report = (path: string, message: string) => void;

function parseJwt(raw: unknown, at: string, bad: Report): GatewayJwtConfig | undefined {
  if (!isRecord(raw)) {
    bad(at, "must be an object");
    return undefined;
  }
  for (const key of Object.keys(raw)) if (!JWT_KEYS.has(key)) bad(`${at}.${key}`, `unknown key "${key}"`);
  const jwksFile = optionalString(raw.jwksFile, `${at}.jwksFile`, bad);
  const jwksUrl = optionalString(raw.jwksUrl, `${at}.jwksUrl`, bad);
  if ((jwksFile === undefined) === (jwksUrl === undefined)) bad(at, "needs exactly one of jwksFile and jwksUrl");
  if (jwksUrl !== undefined && !/^https?:\/\//.test(jwksUrl))
    bad(`${at}.jwksUrl`, `must be an http(s) URL, not "${jwksUrl}"`);
  const issuer = stringOrList(raw.issuer, `${at}.issuer`, bad);
  const audience = stringOrList(raw.audience, `${at}.audience`, bad);
  let algorithms = DEFAULT_JWT_ALGORITHMS;
  if (raw.algorithms !== undefined) {
    const list = stringOrList(raw.algorithms, `${at}.algorithms`, bad);
    const arr = typeof list === "string" ? [list] : (list ?? []);
    for (const alg of arr) {
      if (alg === "none" || alg.startsWith("HS"))
        bad(`${at}.algorithms`, `"${alg}" is not allowed: use an asymmetric algorithm`);
    }
    if (arr.length === 0) bad(`${at}.algorithms`, "must name at least one algorithm");
    algorithms = Object.freeze([...arr]);
  }
  let clockToleranceSec = 0;
  if (raw.clockToleranceSec !== undefined) {
    if (
      typeof raw.clockToleranceSec === "number" &&
      Number.isInteger(raw.clockToleranceSec) &&
      raw.clockToleranceSec >= 0
    ) {
      clockToleranceSec = raw.clockToleranceSec;
    } else bad(`${at}.clockToleranceSec`, "must be a non-negative integer");
  }
  const subjectTypeClaim = optionalString(raw.subjectTypeClaim, `${at}.subjectTypeClaim`, bad);
  return Object.freeze({
    ...(jwksFile !== undefined ? { jwksFile } : {}),
    ...(jwksUrl !== undefined ? { jwksUrl } : {}),
    ...(issuer !== undefined ? { issuer } : {}),
    ...(audience !== undefined ? { audience } : {}),
    algorithms,
    clockToleranceSec,
    ...(subjectTypeClaim !== undefined ? { subjectTypeClaim } : {}),
  });
}

function parseSubjectHeaders(raw: unknown, at: string, bad: Report): GatewaySubjectHeaders | undefined {
  if (!isRecord(raw)) {
    bad(at, 'must be an object like { id: "x-user-id", type: "x-subject-type" }');
    return undefined;
  }
  for (const key of Object.keys(raw)) if (key !== "id" && key !== "type") bad(`${at}.${key}`, `unknown key "${key}"`);
  const id = headerName(raw.id, `${at}.id`, bad, true);
  const type = headerName(raw.type, `${at}.type`, bad, false);
  if (id === undefined) return undefined;
  return Object.freeze({ id, ...(type !== undefined ? { type } : {}) });
}

function parseRoute(raw: unknown, at: string, bad: Report): GatewayRoute | undefined {
  if (!isRecord(raw)) {
    bad(at, 'must be an object like { method: "GET", path: "/todos/{todoId}" }');
    return undefined;
  }
  for (const key of Object.keys(raw)) if (!ROUTE_KEYS.has(key)) bad(`${at}.${key}`, `unknown key "${key}"`);
  let ok = true;
  let method: string | undefined;
  if (raw.method !== undefined) {
    if (typeof raw.method === "string" && METHOD.test(raw.method.toUpperCase())) method = raw.method.toUpperCase();
    else {
      bad(`${at}.method`, `must be an HTTP method like "GET", not ${JSON.stringify(raw.method)}`);
      ok = false;
    }
  }
  if (typeof raw.path !== "string" || !raw.path.startsWith("/")) {
    bad(`${at}.path`, `must be a path template starting with "/", not ${JSON.stringify(raw.path)}`);
    ok = false;
  } else if (!/^(\/([^/{}]*|\{[A-Za-z_][A-Za-z0-9_]*\}))+$/.test(raw.path) && raw.path !== "/") {
    bad(`${at}.path`, `"${raw.path}" is not a template: use literal segments and whole-segment {name} placeholders`);
    ok = false;
  }
  const sensitivity = optionalString(raw.sensitivity, `${at}.sensitivity`, bad);
  if (raw.privileged !== undefined && typeof raw.privileged !== "boolean") {
    bad(`${at}.privileged`, "must be true or false");
    ok = false;
  }
  if (!ok || typeof raw.path !== "string") return undefined;
  return Object.freeze({
    ...(method !== undefined ? { method } : {}),
    path: raw.path,
    ...(sensitivity !== undefined ? { sensitivity } : {}),
    ...(typeof raw.privileged === "boolean" ? { privileged: raw.privileged } : {}),
  });
}

function headerName(raw: unknown, at: string, bad: Report, required: boolean): string | undefined {
  if (raw === undefined) {
    if (required) bad(at, "is required");
    return undefined;
  }
  if (typeof raw !== "string" || !HEADER_NAME.test(raw.toLowerCase())) {
    bad(at, `must be a header name, not ${JSON.stringify(raw)}`);
    return undefined;
  }
  return raw.toLowerCase();
}

function headerList(raw: unknown, at: string, bad: Report): readonly string[] {
  if (raw === undefined) return Object.freeze([]);
  if (!Array.isArray(raw)) {
    bad(at, "must be a list of header names");
    return Object.freeze([]);
  }
  const out: string[] = [];
  raw.forEach((h, i) => {
    const name = headerName(h, `${at}[${i}]`, bad, true);
    if (name !== undefined) out.push(name);
  });
  return Object.freeze(out);
}

function optionalString(raw: unknown, at: string, bad: Report): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || raw.length === 0) {
    bad(at, `must be a non-empty string, not ${JSON.stringify(raw)}`);
    return undefined;
  }
  return raw;
}

function stringOrList(raw: unknown, at: string, bad: Report): string | readonly string[] | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === "string" && raw.length > 0) return raw;
  if (Array.isArray(raw) && raw.every((v) => typeof v === "string" && v.length > 0))
    return Object.freeze([...(raw as string[])]);
  bad(at, "must be a string or a list of strings");
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
