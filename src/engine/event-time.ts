/** Reads the event time of a request (`context.time`, RFC 3339) for replay and simulation. */

import { SignalboxError } from "../errors/signalbox-error.js";
import type { AccessRequest } from "../model/request.js";

// RFC 3339 date-time; seconds optional because the AuthZEN examples omit them ("1985-10-26T01:22-07:00").
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Epoch ms of an RFC 3339 string, or undefined when it is not one. */
export function parseRfc3339(value: unknown): number | undefined {
  if (typeof value !== "string" || !RFC3339.test(value)) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** The request's event time, or `EVENT_TIME_INVALID` naming what is wrong. */
export function eventTimeOf(request: AccessRequest): number {
  const raw = request.context?.time;
  if (raw === undefined) {
    throw new SignalboxError("EVENT_TIME_INVALID", "context.time is required when the engine runs on event time", {
      problems: [{ path: "context.time", message: "missing" }],
    });
  }
  const t = parseRfc3339(raw);
  if (t === undefined) {
    throw new SignalboxError("EVENT_TIME_INVALID", `context.time "${String(raw)}" is not an RFC 3339 date-time`, {
      problems: [{ path: "context.time", message: "not an RFC 3339 date-time" }],
    });
  }
  return t;
}
