/**
 * What Redis state costs one engine, against memory state in the same run: decisions/s and latency
 * with the default policy, and Redis round trips per decision (goal: at most 2).
 * Run alone with `npx tsx bench/scaleout.ts`.
 */

import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { createEngine } from "../src/engine/create-engine.js";
import type { Engine } from "../src/engine/engine.js";
import { DEFAULT_POLICY_FILE, loadPolicy } from "../src/policy/load.js";
import { MemoryStateStore } from "../src/state/memory.js";
import { RedisStateStore } from "../src/state/redis.js";
import type { BenchResult } from "./result.js";

const REDIS_URL = process.env.SIGNALBOX_BENCH_REDIS ?? "redis://127.0.0.1:6379/0";
const DECISIONS = Number(process.env.SIGNALBOX_BENCH_SCALEOUT_DECISIONS ?? 5_000);
const WARM_UP = 500;
const USERS = 1_000;
const T0 = Date.parse("2026-11-23T08:00:00Z");

/**
 * Decision `i` of a day of traffic: mostly successful sign-ins, token-bearing reads and some failed
 * sign-ins, from 1,000 people on 250 addresses, one second apart in event time.
 */
export function scaleoutRequest(i: number): Record<string, unknown> {
  const u = i % USERS;
  const time = new Date(T0 + i * 1000).toISOString();
  const ip = `198.51.100.${u % 250}`;
  const device = { id: `dev-${u}`, managed: true };
  const kind = i % 10;
  if (kind < 7) {
    return {
      subject: { type: "user", id: `u${u}@example.com` },
      action: { name: "login" },
      resource: { type: "application", id: "portal" },
      context: { time, ip, device, authn: { result: "success", method: "password" } },
    };
  }
  if (kind < 9) {
    return {
      subject: { type: "user", id: `u${u}@example.com` },
      action: { name: "read" },
      resource: { type: "document", id: `doc-${i % 50}` },
      context: { time, ip, device, token: { jti: `t-${u}-${Math.floor(i / USERS)}` } },
    };
  }
  return {
    subject: { type: "user", id: `u${u}@example.com` },
    action: { name: "login" },
    resource: { type: "application", id: "portal" },
    context: { time, ip, device, authn: { result: "failure", method: "password" } },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

interface Run {
  readonly opsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** Decisions that fell back to `on_error` because state was not read in time. */
  readonly stateErrors: number;
}

/** Runs `count` decisions starting at request `from`, `inFlight` at a time, timing each one. */
async function drive(engine: Engine, from: number, count: number, inFlight: number): Promise<Run> {
  const latencies: number[] = [];
  let stateErrors = 0;
  let next = from;
  const end = from + count;
  const started = performance.now();
  const worker = async () => {
    while (next < end) {
      const request = scaleoutRequest(next++);
      const t = performance.now();
      const d = await engine.decide(request);
      latencies.push((performance.now() - t) * 1000);
      if (d.errors.some((e) => e.source === "state")) stateErrors++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    opsPerSec: Math.round(count / seconds),
    p50Us: Math.round(percentile(latencies, 50)),
    p99Us: Math.round(percentile(latencies, 99)),
    stateErrors,
  };
}

function resultOf(name: string, run: Run, note: string): BenchResult {
  const errors = run.stateErrors > 0 ? `; ${run.stateErrors} decisions fell back to on_error` : "";
  return { name, opsPerSec: run.opsPerSec, p50Us: run.p50Us, p99Us: run.p99Us, note: `${note}${errors}` };
}

export async function benchScaleout(): Promise<BenchResult[]> {
  const policy = await loadPolicy(DEFAULT_POLICY_FILE);
  // A generous state timeout: the benchmark measures Redis, not the on_error fallback.
  const engineOf = (state: MemoryStateStore | RedisStateStore) =>
    createEngine({ policy, state, eventTime: "request", stateTimeoutMs: 2_000 });
  const note = `default policy, ${USERS} people, 70% sign-ins / 20% token reads / 10% failed sign-ins, PEP facts only`;
  const results: BenchResult[] = [];

  const memory = engineOf(new MemoryStateStore());
  await drive(memory, 0, WARM_UP, 1);
  results.push(resultOf("scaleout/engine decision, memory state", await drive(memory, WARM_UP, DECISIONS, 1), note));
  await memory.close();

  const prefix = `sbbench-scaleout-${process.pid}:`;
  const store = new RedisStateStore({ url: REDIS_URL, keyPrefix: prefix });
  try {
    await store.ready();
  } catch (err) {
    await store.close();
    results.push({
      name: "scaleout/engine decision, redis state",
      opsPerSec: 0,
      p50Us: 0,
      p99Us: 0,
      note: `skipped: ${(err as Error).message}`,
    });
    return results;
  }
  const redis = engineOf(store);
  try {
    await drive(redis, 0, WARM_UP, 1);
    const before = store.roundTrips;
    const one = await drive(redis, WARM_UP, DECISIONS, 1);
    const perDecision = (store.roundTrips - before) / DECISIONS;
    results.push(
      resultOf(
        "scaleout/engine decision, redis state",
        one,
        `${note}; ${perDecision.toFixed(2)} redis round trips per decision (goal ≤ 2)`,
      ),
    );
    const start = WARM_UP + DECISIONS;
    results.push(
      resultOf(
        "scaleout/engine decision, redis state, 32 in flight",
        await drive(redis, start, DECISIONS * 2, 32),
        note,
      ),
    );
    results.push({
      name: "scaleout/redis round trips per decision",
      opsPerSec: 0,
      p50Us: 0,
      p99Us: 0,
      note: `${perDecision.toFixed(2)} (one pipelined read before the decision, one pipelined write after; goal ≤ 2)`,
    });
  } finally {
    await store.flushPrefix();
    await redis.close();
  }
  return results;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  for (const r of await benchScaleout()) {
    process.stdout.write(
      `${r.name.padEnd(52)} ${String(r.opsPerSec).padStart(8)} /s  p50 ${r.p50Us} µs  p99 ${r.p99Us} µs  ${r.note ?? ""}\n`,
    );
  }
}
