/**
 * token_replay: the same token id (`context.token.jti`) or session id (`context.session.id`) presented by
 * another holder than the one that first used it — another device, workload, subject or network.
 */

import type { DetectorFinding, Severity } from "../model/finding.js";
import type { JsonObject, JsonValue } from "../model/request.js";
import type { ClaimRead } from "../state/port.js";
import { type Detector, type DetectorContext, numParam } from "./detector.js";
import { sourceAddress, sourcePrefix } from "./source-network.js";

const ID = "token_replay";

interface Presented {
  readonly kind: "token" | "session";
  readonly key: string;
  readonly ttlMs: number;
}

/** What differs between the first holder and this request, worst first. */
interface Difference {
  readonly severity: Severity;
  readonly points: number;
  readonly fields: string[];
}

export const tokenReplayDetector: Detector = {
  id: ID,
  description: "the same token or session id presented by another device, workload, subject or network",
  defaults: {
    /** Points when the device, workload or subject differs (critical). */
    points: 90,
    /** Points when a token id comes from another /24 (or /48), or a session id from another country (high). */
    network_points: 60,
    /** Points when a session id comes from another ASN in the same country (medium). */
    asn_points: 30,
    /** How long a token id is remembered when the token carries no `exp`. */
    token_ttl_seconds: 86_400,
    /** How long a session id is remembered. */
    session_ttl_seconds: 86_400,
    /** Longest a token id is remembered even when its `exp` is later. */
    max_ttl_seconds: 604_800,
  },

  applies(ctx) {
    const c = ctx.request.context;
    return isId(c?.token?.jti) || isId(c?.session?.id);
  },

  needs(ctx, needs) {
    const holder = holderOf(ctx);
    for (const p of presented(ctx)) needs.claim({ key: p.key, holder, ttlMs: p.ttlMs });
  },

  detect(ctx, state) {
    const current = holderOf(ctx);
    let worst: { p: Presented; d: Difference; first: JsonObject } | undefined;
    for (const p of presented(ctx)) {
      const claim = state.claim(p.key);
      const d = claim ? differenceOf(ctx, p, claim, current) : undefined;
      if (d && (!worst || d.points > worst.d.points)) worst = { p, d, first: claim?.first ?? {} };
    }
    if (!worst) return undefined;
    return findingOf(worst.p, worst.d, worst.first, current);
  },
};

/** The ids this request presents, each with the claim key and how long the first holder is kept. */
function isId(v: unknown): boolean {
  return typeof v === "string" && v !== "";
}

// `needs` and `detect` of one request ask in turn; the context is immutable, so the answer is too.
let lastContext: DetectorContext | undefined;
let lastPresented: readonly Presented[] = [];

function presented(ctx: DetectorContext): readonly Presented[] {
  if (ctx !== lastContext) {
    lastPresented = presentedBy(ctx);
    lastContext = ctx;
  }
  return lastPresented;
}

function presentedBy(ctx: DetectorContext): Presented[] {
  const out: Presented[] = [];
  const c = ctx.request.context;
  const jti = c?.token?.jti;
  if (typeof jti === "string" && jti !== "") {
    const maxTtl = numParam(ctx, "max_ttl_seconds", 604_800) * 1000;
    const exp = c?.token?.exp;
    // A token cannot be replayed after it expires, so its id need not be remembered longer.
    const ttl =
      typeof exp === "number" && Number.isFinite(exp)
        ? Math.min(maxTtl, Math.max(60_000, exp * 1000 - ctx.now + 300_000))
        : numParam(ctx, "token_ttl_seconds", 86_400) * 1000;
    out.push({ kind: "token", key: `jti:${jti}`, ttlMs: ttl });
  }
  const sid = c?.session?.id;
  if (typeof sid === "string" && sid !== "") {
    out.push({ kind: "session", key: `sid:${sid}`, ttlMs: numParam(ctx, "session_ttl_seconds", 86_400) * 1000 });
  }
  return out;
}

/** Who presents the id now; unknown parts are null so they never count as a difference. */
function holderOf(ctx: DetectorContext): JsonObject {
  const c = ctx.request.context;
  const device = c?.device?.id;
  const workload = c?.workload?.spiffe_id;
  return {
    subject: ctx.subjectKey,
    device: typeof device === "string" && device !== "" ? device : null,
    workload: typeof workload === "string" && workload !== "" ? workload : null,
    ip: sourceAddress(ctx) ?? null,
    prefix: sourcePrefix(ctx) ?? null,
    asn: ctx.enrichment.network?.asn ?? null,
    country: ctx.enrichment.geo?.country ?? null,
  };
}

function differs(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return a !== undefined && a !== null && b !== undefined && b !== null && a !== b;
}

function differenceOf(ctx: DetectorContext, p: Presented, claim: ClaimRead, now: JsonObject): Difference | undefined {
  if (claim.won) return undefined;
  const first = claim.first;
  const identity = ["subject", "device", "workload"].filter((f) => differs(first[f], now[f]));
  if (identity.length > 0) return { severity: "critical", points: numParam(ctx, "points", 90), fields: identity };
  if (p.kind === "token") {
    if (differs(first.prefix, now.prefix)) {
      return { severity: "high", points: numParam(ctx, "network_points", 60), fields: ["prefix"] };
    }
    return undefined;
  }
  // Sessions live long and mobile users move between networks: a new /24 alone says nothing.
  if (differs(first.country, now.country)) {
    return { severity: "high", points: numParam(ctx, "network_points", 60), fields: ["country"] };
  }
  if (differs(first.asn, now.asn)) {
    return { severity: "medium", points: numParam(ctx, "asn_points", 30), fields: ["asn"] };
  }
  return undefined;
}

function findingOf(p: Presented, d: Difference, first: JsonObject, now: JsonObject): DetectorFinding {
  const id = p.key.slice(4);
  const what = p.kind === "token" ? "token" : "session";
  const evidence: JsonObject = {
    presented: p.kind,
    // Never the whole id: it may be a bearer secret in some deployments.
    id_prefix: `${id.slice(0, 8)}${id.length > 8 ? "…" : ""}`,
    differs: d.fields,
    first_holder: pick(first, d.fields),
    holder: pick(now, d.fields),
  };
  return {
    severity: d.severity,
    points: d.points,
    code: ID,
    message: `${what} id first used from a different ${d.fields.join(" and ")} is being reused`,
    evidence,
  };
}

function pick(o: JsonObject, fields: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const f of fields) out[f] = o[f] ?? null;
  return out;
}
