/** Whether an AuthZEN caller asked for bare `{"decision": bool}` answers (RFC 7240 `Prefer: return=minimal`). */

import type { FastifyRequest } from "fastify";

export function prefersMinimal(request: FastifyRequest, configured: boolean): boolean {
  const prefer = request.headers.prefer;
  if (prefer === undefined) return configured;
  const values = (Array.isArray(prefer) ? prefer.join(",") : prefer).toLowerCase();
  if (/\breturn\s*=\s*"?minimal"?/.test(values)) return true;
  if (/\breturn\s*=\s*"?representation"?/.test(values)) return false;
  return configured;
}
