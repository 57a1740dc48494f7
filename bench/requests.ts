/**
 * The request mixes the benchmarks replay: simulated traffic for the risk engine (people, services,
 * CI jobs and agents, with a warm-up slice that builds learned history first) and the AuthZEN Todo
 * cases shared by Signalbox and the casbin and Cedar baselines.
 */

import type { AccessRequest } from "../src/model/request.js";
import { simulate } from "../src/simulate/simulate.js";

/** Simulated traffic in time order, each request carrying its own `context.time`. */
export interface TrafficMix {
  /** Replayed untimed first, so profiles and counters hold history as on a running node. */
  readonly warmup: readonly AccessRequest[];
  /** Replayed timed, in order, after the warm-up. */
  readonly measured: readonly AccessRequest[];
  /** One line saying what the mix is made of. */
  readonly description: string;
}

export interface TrafficOptions {
  /** Simulated days, warm-up included. */
  readonly days: number;
  /** Days replayed untimed before the measured ones. */
  readonly warmupDays: number;
  readonly seed?: number;
}

const DAY_MS = 86_400_000;

/**
 * Labelled simulated traffic (everyday use plus injected attacks) for 150 people, 8 services,
 * 6 CI pipelines and 6 agents, split by day into a warm-up and a measured part. The engine must run
 * with `eventTime: "request"`: every request carries the `context.time` the simulator gave it.
 */
export function simulatedTraffic(options: TrafficOptions): TrafficMix {
  const days = Math.max(options.days, options.warmupDays + 1);
  const sim = simulate({
    seed: options.seed ?? 7,
    days,
    warmupDays: Math.max(1, Math.min(options.warmupDays, days - 1)),
  });
  const split = sim.options.start + options.warmupDays * DAY_MS;
  const warmup: AccessRequest[] = [];
  const measured: AccessRequest[] = [];
  const kinds = new Map<string, number>();
  for (const event of sim.events) {
    (event.at < split ? warmup : measured).push(event.request);
    const kind = event.request.subject.type;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const total = sim.events.length || 1;
  const shares = [...kinds]
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind} ${Math.round((100 * n) / total)}%`)
    .join(", ");
  return {
    warmup,
    measured,
    description: `simulator seed ${sim.options.seed}, ${days} days (${options.warmupDays} untimed warm-up): ${shares}; ${
      sim.events.filter((e) => e.label.actor === "attacker").length
    } attack requests`,
  };
}

/** One Todo authorization question, in the terms all three engines understand. */
export interface TodoCase {
  /** The user's PID (the `sub` of their token), or an id no entity has. */
  readonly subject: string;
  readonly action: TodoAction;
  readonly todo: string;
  /** The todo's owner (an email), when the request carries it. */
  readonly ownerID?: string;
}

export const TODO_ACTIONS = [
  "can_read_user",
  "can_read_todos",
  "can_create_todo",
  "can_update_todo",
  "can_delete_todo",
] as const;

export type TodoAction = (typeof TODO_ACTIONS)[number];

/** A PID that no entity has: every engine must treat it as a user without roles. */
export const UNKNOWN_SUBJECT = "CiRmZDk5OTk5OS1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";

/**
 * Every combination of subject (the five Todo users and an unknown one), action and owner (each
 * user's email, a stranger's, or none), so allow and deny, own and foreign todos all occur.
 */
export function todoCases(pids: readonly string[], emails: readonly string[]): TodoCase[] {
  const owners: (string | undefined)[] = [...emails, "stranger@example.com", undefined];
  const cases: TodoCase[] = [];
  let n = 0;
  for (const subject of [...pids, UNKNOWN_SUBJECT]) {
    for (const action of TODO_ACTIONS) {
      for (const ownerID of owners) {
        const todo = `todo-${n++}`;
        cases.push(ownerID === undefined ? { subject, action, todo } : { subject, action, todo, ownerID });
      }
    }
  }
  return cases;
}

/** The AuthZEN evaluation request Signalbox receives for a Todo case. */
export function todoRequest(c: TodoCase): AccessRequest {
  return {
    subject: { type: "user", id: c.subject },
    action: { name: c.action },
    resource:
      c.ownerID === undefined
        ? { type: "todo", id: c.todo }
        : { type: "todo", id: c.todo, properties: { ownerID: c.ownerID } },
  };
}
