/**
 * Opaque AuthZEN search page tokens. A token names where the next page starts in the search's
 * candidate order and carries a fingerprint of everything else in the request (and the policy
 * revision), so a follow-up request that changed anything but `page` is refused rather than
 * answered with a page of some other search.
 */

import { createHash } from "node:crypto";
import { canonicalJson } from "../../audit/canonical-json.js";
import { SignalboxError } from "../../errors/signalbox-error.js";
import type { SearchKind } from "../../policy/search.js";

/** The fingerprint of a search: its endpoint, its members but `page`, and the policy answering it. */
export function searchFingerprint(kind: SearchKind, body: Readonly<Record<string, unknown>>, policy: string): string {
  const { page: _page, ...rest } = body;
  return createHash("sha256")
    .update(canonicalJson({ kind, policy, request: rest }))
    .digest("base64url")
    .slice(0, 22);
}

export function encodePageToken(start: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ s: start, f: fingerprint }), "utf8").toString("base64url");
}

function invalid(message: string): SignalboxError {
  return new SignalboxError("INVALID_REQUEST", message, { problems: [{ path: "page.token", message }] });
}

/** Where the page named by `token` starts; throws `INVALID_REQUEST` for a token of another search. */
export function decodePageToken(token: string, fingerprint: string): number {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid(`"page.token" "${token}" is not a token this server issued`);
  }
  const { s, f } = (typeof data === "object" && data !== null ? data : {}) as { s?: unknown; f?: unknown };
  if (typeof s !== "number" || !Number.isSafeInteger(s) || s < 0 || typeof f !== "string") {
    throw invalid(`"page.token" "${token}" is not a token this server issued`);
  }
  if (f !== fingerprint) {
    throw invalid(
      `"page.token" belongs to a different search: every member but "page" must stay the same between pages, and the policy must not change`,
    );
  }
  return s;
}
