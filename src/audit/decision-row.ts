/**
 * Builds a decision's stored row straight from the engine's entry: the canonical body, its hash and
 * the index columns in one pass, with no intermediate record objects. The body is byte for byte
 * what `chainRecordWithBody(decisionRecord(entry))` serialises (the tests hold it to that).
 */

import type { JsonObject } from "../model/request.js";
import { identityKey } from "../model/request.js";
import { canonicalJson } from "./canonical-json.js";
import type { ChainHead } from "./chain.js";
import { sha256Hex } from "./chain.js";
import type { DecisionEntry } from "./port.js";
import { AUDIT_SCHEMA } from "./record.js";
import type { StoredRow } from "./store.js";

/** Appends `"name":value` the way canonical JSON does: members whose value is undefined are left out. */
function member(out: string, name: string, value: unknown): string {
  if (value === undefined || typeof value === "function") return out;
  return raw(out, name, canonicalJson(value));
}

/** Appends `"name":text` for a value already serialised. */
function raw(out: string, name: string, text: string): string {
  return `${out}${out.length > 1 ? "," : ""}"${name}":${text}`;
}

function contributions(findings: DecisionEntry["decision"]["findings"]): string {
  let out = "[";
  for (let i = 0; i < findings.length; i++) {
    const f = findings[i];
    if (i > 0) out += ",";
    // Keys in canonical order already, so the object is serialised without a sort.
    out +=
      f === undefined ? "null" : canonicalJson({ code: f.code, contribution: f.contribution, detector: f.detector });
  }
  return `${out}]`;
}

/** The row of `entry`'s decision record placed after `head` in `writerId`'s chain. */
export function decisionRow(
  entry: DecisionEntry,
  mask: (request: JsonObject) => JsonObject,
  writerId: string,
  head: ChainHead,
): StoredRow {
  const d = entry.decision;
  const eventTime = new Date(d.time).toISOString();
  const wallTime = new Date(entry.wallTime).toISOString();
  const subject = identityKey(entry.request.subject);
  const shadow = entry.shadow === true;
  const seq = head.seq + 1;
  // Members in canonical (sorted) order: the fixed keys of a decision record.
  let body = "{";
  body = member(body, "band", d.band);
  body = raw(body, "contributions", contributions(d.findings));
  body = member(body, "control_path", d.controlPath);
  body = member(body, "decision", d.decision);
  body = member(body, "decision_id", d.id);
  body = member(body, "engine_version", entry.engineVersion);
  body = member(body, "errors", d.errors);
  body += `,"event_time":"${eventTime}"`;
  body = member(body, "extras", d.extras);
  body = member(body, "findings", d.findings);
  body += ',"kind":"decision"';
  body = member(body, "latency_us", d.timings.totalUs);
  body = member(body, "matched", d.matched);
  body = member(body, "obligations", d.obligations);
  body += `,"policy":${canonicalJson({ id: d.policy.id, revision: d.policy.revision })}`;
  body = member(body, "prev_hash", head.hash);
  body = member(body, "reasons", d.reasons);
  body = member(body, "request", mask(entry.request as unknown as JsonObject));
  body += `,"schema":"${AUDIT_SCHEMA}"`;
  body = member(body, "score", d.score);
  body = member(body, "segment", d.segment);
  body += `,"seq":${seq},"shadow":${shadow}`;
  body = member(body, "subject", subject);
  body = member(body, "timings", d.timings);
  body += `,"wall_time":"${wallTime}"`;
  body = member(body, "writer_id", writerId);
  body += "}";
  return {
    writer_id: writerId,
    seq,
    kind: "decision",
    decision_id: d.id,
    event_ms: Date.parse(eventTime),
    wall_ms: Date.parse(wallTime),
    subject,
    segment: d.segment ?? null,
    control_path: d.controlPath ?? null,
    reason_codes: ` ${d.reasons.map((r) => r.code).join(" ")} `,
    shadow: shadow ? 1 : 0,
    hash: sha256Hex(body),
    prev_hash: head.hash,
    body,
  };
}
