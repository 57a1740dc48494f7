/** Builds the AuthZEN access request for one proxied HTTP request (method, path, headers, peer). */

import type { JWTPayload } from "jose";
import type { AccessRequest, JsonObject, RequestContext, SessionContext, TokenContext } from "../../model/request.js";
import type { BearerTokenVerifier } from "./bearer-token.js";
import type { GatewayConfig } from "./config.js";
import { pathOnly, type RouteMatch, RouteTable } from "./route-table.js";

/** Request headers with lower-case names, as Node and Envoy hand them over. */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface GatewayInput {
  readonly method: string;
  /** The original request target: path and query. */
  readonly path: string;
  readonly headers: HeaderBag;
  /** Address of the connection's peer (the client, or the proxy in front of us). */
  readonly peer?: string;
}

/** Why no decision was asked for (or the engine refused the request); each becomes a 4xx answer. */
export type GatewayRejection =
  | { readonly reason: "invalid_token"; readonly description: string }
  | { readonly reason: "missing_subject"; readonly description: string }
  | { readonly reason: "route_not_allowed"; readonly description: string }
  | { readonly reason: "invalid_request"; readonly description: string };

export type GatewayRequestResult =
  | { readonly ok: true; readonly request: AccessRequest; readonly route?: RouteMatch }
  | { readonly ok: false; readonly rejection: GatewayRejection };

export interface GatewayRequestBuilder {
  build(input: GatewayInput): Promise<GatewayRequestResult>;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The builder holds the compiled route table and the token verifier; apart from verifying the
 * token it is a pure function of its input. Without a `verifier`, bearer tokens are ignored and
 * the subject can only come from the configured headers: an unverified token is never trusted.
 */
export function createGatewayRequestBuilder(
  config: GatewayConfig,
  verifier?: BearerTokenVerifier,
): GatewayRequestBuilder {
  const routes = new RouteTable(config.routes);
  return {
    async build(input) {
      const method = input.method.toUpperCase();
      const context: RequestContext = {};
      const ip = clientAddress(input, config.trustForwardedFor);
      if (ip !== undefined) context.ip = ip;
      const userAgent = header(input.headers, "user-agent");
      if (userAgent !== undefined) context.user_agent = userAgent;

      let subject: AccessRequest["subject"] | undefined;
      const authorization = header(input.headers, "authorization");
      const bearer = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
      if (verifier && authorization !== undefined && /^bearer\b/i.test(authorization)) {
        if (bearer === undefined) {
          return reject("invalid_token", "the authorization header is not a well-formed bearer token");
        }
        const verified = await verifier.verify(bearer);
        if (!verified.ok) return reject("invalid_token", verified.description);
        subject = { type: subjectTypeFrom(verified.claims, config), id: String(verified.claims.sub) };
        const token = tokenContext(verified.claims);
        if (Object.keys(token).length > 0) context.token = token;
        const session = sessionContext(verified.claims);
        if (Object.keys(session).length > 0) context.session = session;
      } else if (config.subjectHeaders) {
        const id = header(input.headers, config.subjectHeaders.id);
        if (id !== undefined && id.length > 0) {
          const typeHeader = config.subjectHeaders.type;
          const type = typeHeader === undefined ? undefined : header(input.headers, typeHeader);
          subject = { type: type !== undefined && type.length > 0 ? type : config.subjectType, id };
        }
      }
      if (!subject) return reject("missing_subject", "the request carries no bearer token or subject header");

      const path = pathOnly(input.path) || "/";
      const match = routes.match(method, input.path);
      if (!match && config.unmatchedRoute === "deny") {
        return reject("route_not_allowed", `no configured route matches ${method} "${path}"`);
      }
      const actionProps: JsonObject = { method };
      if (match?.route.privileged !== undefined) actionProps.privileged = match.route.privileged;
      const resourceProps: JsonObject = { path };
      if (match) {
        resourceProps.params = { ...match.params };
        if (match.route.sensitivity !== undefined) resourceProps.sensitivity = match.route.sensitivity;
      }
      const host = header(input.headers, "host") ?? header(input.headers, ":authority");
      if (host !== undefined) resourceProps.host = host;

      const request: AccessRequest = {
        subject,
        action: { name: method, properties: actionProps },
        resource: { type: "route", id: match ? match.route.path : path, properties: resourceProps },
        context,
      };
      return match ? { ok: true, request, route: match } : { ok: true, request };
    },
  };
}

/** The first value of a header (names are lower case). */
export function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return typeof v === "string" ? v : v[0];
}

function reject(reason: GatewayRejection["reason"], description: string): GatewayRequestResult {
  return { ok: false, rejection: { reason, description } };
}

function clientAddress(input: GatewayInput, trustForwardedFor: boolean): string | undefined {
  if (trustForwardedFor) {
    const forwarded = header(input.headers, "x-forwarded-for");
    const first = forwarded?.split(",")[0]?.trim();
    if (first) return normaliseAddress(first);
  }
  return input.peer === undefined || input.peer === "" ? undefined : normaliseAddress(input.peer);
}

/** Drops the IPv4-mapped IPv6 prefix Node reports for IPv4 peers on dual-stack sockets. */
function normaliseAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

function subjectTypeFrom(claims: JWTPayload, config: GatewayConfig): string {
  const claim = config.jwt?.subjectTypeClaim;
  const v = claim === undefined ? undefined : claims[claim];
  return typeof v === "string" && v.length > 0 ? v : config.subjectType;
}

function tokenContext(claims: JWTPayload): TokenContext {
  const t: TokenContext = {};
  if (typeof claims.jti === "string") t.jti = claims.jti;
  if (typeof claims.iat === "number") t.iat = claims.iat;
  if (typeof claims.exp === "number") t.exp = claims.exp;
  const scope = claims.scope ?? claims.scp;
  if (typeof scope === "string") t.scope = scope;
  else if (Array.isArray(scope) && scope.every((s) => typeof s === "string")) t.scope = scope.join(" ");
  const clientId = claims.client_id ?? claims.azp;
  if (typeof clientId === "string") t.client_id = clientId;
  return t;
}

function sessionContext(claims: JWTPayload): SessionContext {
  const s: SessionContext = {};
  if (typeof claims.sid === "string") s.id = claims.sid;
  if (typeof claims.auth_time === "number") s.auth_time = claims.auth_time;
  if (typeof claims.acr === "string") s.acr = claims.acr;
  if (Array.isArray(claims.amr) && claims.amr.every((a) => typeof a === "string"))
    s.amr = [...(claims.amr as string[])];
  return s;
}
