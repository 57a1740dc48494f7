/** Flags a request from a network (autonomous system, or a /24 prefix inside a known one) new for this person. */

import type { DetectorFinding } from "../model/finding.js";
import type { StateUpdate } from "../state/port.js";
import { type Detector, type DetectorContext, numParam } from "./detector.js";
import { freshSet, freshSince, isKnown } from "./learned-values.js";
import { mayTeach } from "./login-attempt.js";
import { sourcePrefix } from "./source-network.js";

function networkOf(ctx: DetectorContext): { asn: string | undefined; prefix: string | undefined } {
  const n = ctx.enrichment.network;
  const asn = typeof n?.asn === "number" && Number.isFinite(n.asn) ? `AS${n.asn}` : undefined;
  return { asn, prefix: sourcePrefix(ctx) };
}

function see(ctx: DetectorContext, field: string, value: string, capParam: string, cap: number): StateUpdate {
  return {
    op: "see",
    profile: ctx.subjectKey,
    field,
    value,
    at: ctx.now,
    cap: Math.max(1, Math.floor(numParam(ctx, capParam, cap))),
  };
}

export const newNetworkDetector: Detector = {
  id: "new_network",
  description: "a person appears from an autonomous system (or a /24 prefix) not seen for them before",
  defaults: { points: 15, prefix_points: 5, cap: 50, prefix_cap: 100, max_age_days: 180 },
  applies: (ctx) => ctx.kind === "human",
  needs(ctx, needs) {
    needs.profile(ctx.subjectKey);
  },
  detect(ctx, state): DetectorFinding | undefined {
    const { asn, prefix } = networkOf(ctx);
    const profile = state.profile(ctx.subjectKey);
    const since = freshSince(ctx);
    const asns = freshSet(profile, "asns", since);
    const org = ctx.enrichment.network?.org ?? null;
    // Each level stays silent until something is on record for it (cold start).
    if (asn && asns.size > 0 && !isKnown(profile, "asns", asn, since)) {
      return {
        severity: "low",
        points: numParam(ctx, "points", 15),
        code: "new_network",
        message: `request from network ${asn}, not seen for this identity`,
        evidence: { level: "asn", asn, org, prefix: prefix ?? null, known_asns: asns.size },
      };
    }
    const prefixes = freshSet(profile, "prefixes", since);
    if (prefix && prefixes.size > 0 && !isKnown(profile, "prefixes", prefix, since)) {
      return {
        severity: "info",
        points: numParam(ctx, "prefix_points", 5),
        code: "new_network",
        message: `request from prefix ${prefix}, not seen for this identity`,
        evidence: { level: "prefix", asn: asn ?? null, org, prefix, known_prefixes: prefixes.size },
      };
    }
    return undefined;
  },
  update(ctx, _state, sink) {
    if (!mayTeach(ctx)) return;
    const { asn, prefix } = networkOf(ctx);
    if (asn) sink.learn(see(ctx, "asns", asn, "cap", 50));
    if (prefix) sink.learn(see(ctx, "prefixes", prefix, "prefix_cap", 100));
  },
};
