/**
 * `signalbox bench`: an in-process benchmark of one policy on memory state, replaying simulated
 * traffic (people, services, CI jobs, agents) and printing decisions per second and p50/p99 latency.
 */

import { performance } from "node:perf_hooks";
import type { Command } from "commander";
import { createEngine } from "../../engine/create-engine.js";
import type { AccessRequest } from "../../model/request.js";
import { DEFAULT_POLICY_FILE, loadPolicy } from "../../policy/load.js";
import { simulate } from "../../simulate/simulate.js";
import type { CliIO } from "../io.js";
import { intOption } from "../options.js";

const DAY_MS = 86_400_000;
/** Simulated days per replay cycle; the first day of the first cycle is replayed untimed. */
const CYCLE_DAYS = 7;

export interface BenchFigures {
  readonly decisions: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

/**
 * The same requests `offsetMs` later, with their token ids made new, so replaying a cycle again
 * looks like more days of the same population rather than old traffic or replayed tokens.
 */
export function shiftRequest(request: AccessRequest, offsetMs: number, cycle: number): AccessRequest {
  if (offsetMs === 0 || !request.context) return request;
  const context = { ...request.context };
  const seconds = Math.round(offsetMs / 1000);
  if (typeof context.time === "string") context.time = new Date(Date.parse(context.time) + offsetMs).toISOString();
  if (context.token) {
    const token = { ...context.token };
    if (token.iat !== undefined) token.iat += seconds;
    if (token.exp !== undefined) token.exp += seconds;
    if (token.jti !== undefined) token.jti = `${token.jti}.${cycle}`;
    context.token = token;
  }
  if (context.session?.auth_time !== undefined) {
    context.session = { ...context.session, auth_time: context.session.auth_time + seconds };
  }
  return { ...request, context };
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
}

/** Decides simulated traffic one request at a time for about `durationMs`, after a day of untimed warm-up. */
export async function benchPolicy(policyFile: string, durationMs: number): Promise<BenchFigures> {
  const policy = await loadPolicy(policyFile);
  const sim = simulate({ days: CYCLE_DAYS, warmupDays: 1 });
  const start = sim.options.start;
  const warmup = sim.events.filter((e) => e.at < start + DAY_MS).map((e) => e.request);
  const cycle = sim.events.filter((e) => e.at >= start + DAY_MS).map((e) => e.request);
  const engine = createEngine({ policy, eventTime: "request" });
  try {
    for (const request of warmup) await engine.decide(request);
    const samples: number[] = [];
    let timed = 0;
    for (let k = 0; timed < durationMs && cycle.length > 0; k++) {
      // Shifting is done before timing each cycle, so only decisions are timed.
      const batch = k === 0 ? cycle : cycle.map((r) => shiftRequest(r, k * (CYCLE_DAYS - 1) * DAY_MS, k));
      const cycleStart = performance.now();
      for (const request of batch) {
        const t = performance.now();
        await engine.decide(request);
        samples.push(performance.now() - t);
        if (t - cycleStart + timed >= durationMs) break;
      }
      timed += performance.now() - cycleStart;
    }
    const sorted = Float64Array.from(samples).sort();
    return {
      decisions: samples.length,
      seconds: timed / 1000,
      perSecond: samples.length / (timed / 1000),
      p50Us: percentile(sorted, 0.5) * 1000,
      p99Us: percentile(sorted, 0.99) * 1000,
    };
  } finally {
    await engine.close();
  }
}

export function registerBenchCommand(program: Command, io: CliIO): void {
  program
    .command("bench")
    .description("benchmark a policy in process: memory state, audit off, simulated traffic, one decision at a time")
    .option("--policy <file>", "policy to benchmark (default: the shipped default policy)")
    .option("--duration <seconds>", "seconds of timed decisions", intOption("--duration", 1, 600), 5)
    .action(async (flags: { policy?: string; duration: number }) => {
      const name = flags.policy ?? "the default policy";
      io.err(`benchmarking ${name} for ${flags.duration} s (memory state, audit off, one core)`);
      const f = await benchPolicy(flags.policy ?? DEFAULT_POLICY_FILE, flags.duration * 1000);
      io.out(
        [
          `decisions:   ${f.decisions} in ${f.seconds.toFixed(1)} s`,
          `decisions/s: ${Math.round(f.perSecond)}`,
          `p50:         ${f.p50Us.toFixed(1)} µs`,
          `p99:         ${f.p99Us.toFixed(1)} µs`,
          "traffic:     simulated people, services, CI jobs and agents with attacks, replayed in time order",
        ].join("\n"),
      );
    });
}
