/**
 * Replays labelled simulated traffic over HTTP with a few requests in flight, keeping each
 * identity's requests (and the outcome of a challenge) in time order, since the engine learns
 * per identity on event time.
 */

import type { Outcome } from "../model/outcome.js";
import { outcomeFor, type SimEvent } from "../simulate/event.js";
import { decide, type NativeDecision, reportOutcome } from "./decision-client.js";

export interface ReplayedEvent {
  readonly event: SimEvent;
  readonly decision: NativeDecision;
  /** The outcome the simulated sender reported for a step-up or hold. */
  readonly outcome: Outcome | undefined;
}

export interface ReplayOptions {
  /** Requests in flight at most. */
  readonly concurrency: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Sends every event; resolves with the answers in the events' order, or rejects on the first failed call. */
export async function replayOverHttp(
  baseUrl: string,
  events: readonly SimEvent[],
  options: ReplayOptions,
): Promise<ReplayedEvent[]> {
  const results: (ReplayedEvent | undefined)[] = new Array(events.length);
  // the last call chain of each identity: the next request of that identity waits for it
  const tails = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  let firstError: unknown;

  const send = async (index: number, event: SimEvent): Promise<void> => {
    const decision = await decide(baseUrl, event.request);
    const outcome = outcomeFor(event.label, decision.control_path);
    if (outcome) await reportOutcome(baseUrl, decision.decision_id, outcome);
    results[index] = { event, decision, outcome };
    done++;
    options.onProgress?.(done, events.length);
  };

  for (const [index, event] of events.entries()) {
    if (firstError !== undefined) break;
    while (inFlight.size >= Math.max(1, options.concurrency)) await Promise.race(inFlight);
    const identity = event.label.identity;
    const before = tails.get(identity) ?? Promise.resolve();
    const task: Promise<void> = before
      .then(() => (firstError === undefined ? send(index, event) : undefined))
      .catch((err: unknown) => {
        firstError ??= err;
      })
      .finally(() => {
        inFlight.delete(task);
        if (tails.get(identity) === task) tails.delete(identity);
      });
    tails.set(identity, task);
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  if (firstError !== undefined) throw firstError;
  return results.filter((r): r is ReplayedEvent => r !== undefined);
}
