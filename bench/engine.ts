/**
 * Benchmarks `engine.decide` in process: the default policy with every detector on simulated
 * traffic, and the pure-authorization Todo policy against casbin and Cedar on the same questions.
 * Each benchmark is prepared once and then run as many times as the caller wants ranges over.
 */

import { measure } from "../src/benchmark/measure.js";
import { createEngine } from "../src/engine/create-engine.js";
import type { Engine } from "../src/engine/engine.js";
import { loadPolicy } from "../src/policy/load.js";
import { allTodoCases, casbinTodo, cedarTodo, signalboxTodo, todoAnswers } from "./baselines/todo-deciders.js";
import { simulatedTraffic, type TrafficMix, todoRequest } from "./requests.js";
import type { BenchResult } from "./result.js";

/** A benchmark ready to run: each `run()` is one timed repetition of all its rows. */
export interface PreparedBench {
  run(): Promise<BenchResult[]>;
  close(): Promise<void>;
}

export interface EngineBenchOptions {
  /** Timed milliseconds per row and repetition (fewer when the traffic runs out). */
  readonly durationMs: number;
  /** How many times `run()` will be called, so the traffic is shared out between them. */
  readonly repetitions: number;
  /** Simulated days, and how many of them are replayed untimed first. */
  readonly days: number;
  readonly warmupDays: number;
}

/** A stream of requests replayed in order through one engine, shared out across repetitions. */
export class Replay {
  private cursor = 0;
  constructor(
    readonly engine: Engine,
    private readonly traffic: TrafficMix,
  ) {}

  /** Replays the warm-up slice untimed, `inFlight` at a time. */
  async warmUp(inFlight = 1): Promise<void> {
    let next = 0;
    const requests = this.traffic.warmup;
    const worker = async (): Promise<void> => {
      while (next < requests.length) await this.engine.decide(requests[next++]);
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  }

  /** The most calls one of `rowsLeft` remaining timed rows may take without running out. */
  budget(rowsLeft: number): number {
    return Math.max(1, Math.floor((this.traffic.measured.length - this.cursor) / Math.max(1, rowsLeft)));
  }

  /** Decides the next measured request. */
  next(): Promise<unknown> {
    const request = this.traffic.measured[this.cursor++];
    if (request === undefined) throw new Error("the benchmark ran out of simulated traffic; simulate more days");
    return this.engine.decide(request);
  }

  /** One timed row of decisions, `inFlight` at a time. */
  async row(name: string, durationMs: number, rowsLeft: number, inFlight = 1): Promise<BenchResult & { ops: number }> {
    const m = await measure(name, () => this.next(), {
      warmup: 0,
      durationMs,
      maxOps: this.budget(rowsLeft),
      inFlight,
    });
    return { name, opsPerSec: m.opsPerSec, p50Us: m.p50Us, p99Us: m.p99Us, ops: m.ops, note: `${m.ops} decisions` };
  }
}

/** `engine.decide` on the default policy, memory state, audit off, all detectors, one call at a time. */
export async function prepareDefaultPolicyBench(options: EngineBenchOptions): Promise<PreparedBench> {
  const traffic = simulatedTraffic({ days: options.days, warmupDays: options.warmupDays });
  const engine = createEngine({ policy: await loadPolicy(), eventTime: "request" });
  const replay = new Replay(engine, traffic);
  await replay.warmUp();
  let runsLeft = options.repetitions;
  return {
    async run() {
      const row = await replay.row(
        "engine.decide default policy, memory, audit off",
        options.durationMs,
        Math.max(1, runsLeft--),
      );
      row.note = `${row.note}; sequential awaits, all detectors; ${traffic.description}`;
      return [row];
    },
    close: () => engine.close(),
  };
}

/** Rows of the pure-authorization group, named here so the runner can pick the baseline. */
export const AUTHZ_ROWS = {
  casbin: "casbin enforceSync (ABAC model)",
  cedar: "cedar-wasm statefulIsAuthorized",
  signalbox: "signalbox engine.decide (Todo policy)",
} as const;

/**
 * The AuthZEN Todo questions answered by Signalbox (detectors none, memory state, audit off),
 * casbin and Cedar, checked to agree before anything is timed.
 */
export async function prepareAuthzBench(options: Pick<EngineBenchOptions, "durationMs">): Promise<PreparedBench> {
  const cases = allTodoCases();
  const answers = await todoAnswers(cases);
  const disagreements = answers.filter((a) => a.signalbox !== a.casbin || a.casbin !== a.cedar);
  if (disagreements.length > 0) {
    throw new Error(
      `the Todo deciders disagree on ${disagreements.length} of ${cases.length} cases, first ${JSON.stringify(disagreements[0])}`,
    );
  }
  const allowed = answers.filter((a) => a.signalbox).length;
  const engine = await signalboxTodo();
  const casbin = await casbinTodo();
  const cedar = cedarTodo();
  // Requests and call arguments are built before timing: each system gets its own native input.
  const requests = cases.map(todoRequest);
  const casbinArgs = cases.map((c) => casbin.args(c));
  const cedarCalls = cases.map((c) => cedar.call(c));
  const pick = <T>(list: readonly T[], i: number): T => list[i % list.length] as T;
  const note = `${cases.length} cases (${allowed} allowed), all three agree`;
  const timing = { durationMs: options.durationMs, warmup: 5_000 };
  return {
    async run() {
      const rows = [
        await measure(AUTHZ_ROWS.casbin, (i) => casbin.enforcer.enforceSync(...pick(casbinArgs, i)), timing),
        await measure(AUTHZ_ROWS.cedar, (i) => cedar.isAuthorized(pick(cedarCalls, i)), timing),
        await measure(AUTHZ_ROWS.signalbox, (i) => engine.decide(pick(requests, i)), timing),
      ];
      return rows.map((m) => ({ name: m.name, opsPerSec: m.opsPerSec, p50Us: m.p50Us, p99Us: m.p99Us, note }));
    },
    close: () => engine.close(),
  };
}
