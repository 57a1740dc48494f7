/** An access request taken from a recorded dataset, with the dataset's own label: attack or not. */

import type { AccessRequest } from "../model/request.js";

export interface LabelledRequest {
  readonly request: AccessRequest;
  /** True when the dataset labels the event as attack traffic (a red-team line, a spray record). */
  readonly attack: boolean;
  /** Where the event came from, `file:line`, so every result can be traced to its raw record. */
  readonly origin: string;
}

/**
 * Sorts by event time, keeping the file order of events with the same time: the datasets record
 * time to the second, so within one second the order they were written in is the only order known.
 */
export function inTimeOrder(requests: readonly LabelledRequest[]): LabelledRequest[] {
  const timed = requests.map((r, i) => ({ r, i, t: Date.parse(r.request.context?.time ?? "") }));
  timed.sort((a, b) => a.t - b.t || a.i - b.i);
  return timed.map((x) => x.r);
}
