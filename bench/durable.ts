/**
 * Benchmarks `engine.decide` on stores that outlive the process against memory-only, in the same
 * run and on the same simulated traffic: SQLite state with the SQLite audit trail (group commit),
 * and Redis state (with and without the node's profile copies, ADR 0018) with its round trips, node
 * CPU and Redis CPU per decision counted. Each is timed one decision at a time and with many in
 * flight, because a group commit only pays off when decisions overlap.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, Redis } from "ioredis";
import { openAuditTrail } from "../src/audit/open-audit.js";
import { createEngine } from "../src/engine/create-engine.js";
import type { CompiledPolicy } from "../src/policy/compiled.js";
import { loadPolicy } from "../src/policy/load.js";
import { openStateStore } from "../src/state/open-state.js";
import { RedisStateStore } from "../src/state/redis.js";
import { redisTarget } from "../src/state/redis-target.js";
import { type EngineBenchOptions, type PreparedBench, Replay } from "./engine.js";
import { simulatedTraffic, type TrafficMix } from "./requests.js";
import type { BenchResult } from "./result.js";

const REDIS_URL = process.env.SIGNALBOX_BENCH_REDIS ?? "redis://127.0.0.1:6379/0";
/**
 * With many decisions in flight a store's queueing delay passes the default 50 ms state timeout,
 * and a timed-out decision takes the segment's on_error path without its state: that measures
 * the fallback, not the store. A generous timeout keeps every decision real; any state error
 * still happening is counted and printed with the row.
 */
const STATE_TIMEOUT_MS = 2_000;

/** Engine options shared by every variant, with a counter of state errors and timeouts. */
function counted(): { options: { stateTimeoutMs: number; observer: { onStateError(): void } }; errors(): number } {
  let errors = 0;
  return {
    options: {
      stateTimeoutMs: STATE_TIMEOUT_MS,
      observer: {
        onStateError: () => {
          errors++;
        },
      },
    },
    errors: () => errors,
  };
}

export interface StoreBenchOptions extends EngineBenchOptions {
  /** Decisions in flight for the concurrent rows. */
  readonly inFlight: number;
}

/** One engine configuration, replayed sequentially and concurrently each repetition. */
interface Variant {
  readonly label: string;
  readonly replay: Replay;
  /** State errors and timeouts so far. */
  readonly stateErrors: () => number;
  /** Extra words for a row's note, given the decisions it made (e.g. round trips per decision). */
  readonly measureNote?: () => { start(): Promise<void>; note(decisions: number): Promise<string> };
  close(): Promise<void>;
}

async function memoryVariant(policy: CompiledPolicy, traffic: TrafficMix): Promise<Variant> {
  const count = counted();
  const engine = createEngine({ policy, eventTime: "request", ...count.options });
  return {
    label: "memory state, audit off",
    replay: new Replay(engine, traffic),
    stateErrors: count.errors,
    close: () => engine.close(),
  };
}

function rowsOf(variants: readonly Variant[], options: StoreBenchOptions): PreparedBench {
  let runsLeft = options.repetitions;
  return {
    async run() {
      // Two rows per variant and repetition share the variant's traffic.
      const rowsLeft = 2 * Math.max(1, runsLeft--);
      const rows: BenchResult[] = [];
      for (const v of variants) {
        for (const inFlight of [1, options.inFlight]) {
          const probe = v.measureNote?.();
          const errorsBefore = v.stateErrors();
          await probe?.start();
          const how = inFlight === 1 ? "sequential" : `${inFlight} in flight`;
          const row = await v.replay.row(`engine ${v.label}, ${how}`, options.durationMs, rowsLeft, inFlight);
          if (probe) row.note = `${row.note}; ${await probe.note(row.ops)}`;
          const errors = v.stateErrors() - errorsBefore;
          row.note = `${row.note}; ${errors === 0 ? "no" : errors} state errors or timeouts (limit ${STATE_TIMEOUT_MS} ms)`;
          rows.push(row);
        }
      }
      return rows;
    },
    async close() {
      for (const v of variants) await v.close();
    },
  };
}

/** The default durable setup (SQLite state, SQLite audit with group commit) against memory-only. */
export async function prepareDurableBench(options: StoreBenchOptions): Promise<PreparedBench> {
  const policy = await loadPolicy();
  const traffic = simulatedTraffic({ days: options.days, warmupDays: options.warmupDays });
  const dir = mkdtempSync(join(tmpdir(), "signalbox-bench-durable-"));
  const memory = await memoryVariant(policy, traffic);
  const state = await openStateStore("sqlite:", dir);
  const audit = await openAuditTrail("sqlite:", dir);
  const count = counted();
  const engine = createEngine({ policy, eventTime: "request", state, audit, ...count.options });
  const durable: Variant = {
    label: "SQLite state + SQLite audit",
    replay: new Replay(engine, traffic),
    stateErrors: count.errors,
    close: async () => {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const v of [memory, durable]) await v.replay.warmUp(options.inFlight);
  return rowsOf([memory, durable], options);
}

/**
 * Redis state (one node) against memory-only, with the node's profile copies on (the default) and
 * off; throws when Redis cannot be reached, so the runner prints the group as skipped.
 */
export async function prepareRedisBench(options: StoreBenchOptions): Promise<PreparedBench> {
  const policy = await loadPolicy();
  const traffic = simulatedTraffic({ days: options.days, warmupDays: options.warmupDays });
  const admin = redisAdmin(REDIS_URL);
  const stores = [
    new RedisStateStore({ url: REDIS_URL, keyPrefix: `sbbench-engine-${process.pid}:` }),
    new RedisStateStore({ url: REDIS_URL, keyPrefix: `sbbench-engine-nocopy-${process.pid}:`, profileCacheSize: 0 }),
  ];
  try {
    await admin.connect();
    for (const store of stores) await store.ready();
  } catch (err) {
    admin.disconnect();
    for (const store of stores) await store.close();
    throw new Error(`Redis at ${REDIS_URL} is not reachable: ${err instanceof Error ? err.message : String(err)}`);
  }
  const memory = await memoryVariant(policy, traffic);
  const [copies, noCopies] = stores as [RedisStateStore, RedisStateStore];
  const variants = [
    memory,
    redisVariant("Redis state, audit off", copies, policy, traffic, admin),
    redisVariant("Redis state without profile copies, audit off", noCopies, policy, traffic, admin),
  ];
  for (const v of variants) await v.replay.warmUp(options.inFlight);
  const rows = rowsOf(variants, options);
  return {
    run: () => rows.run(),
    async close() {
      await rows.close();
      admin.disconnect();
    },
  };
}

/** One engine on a Redis store; each row's note has round trips, node and Redis CPU, and copy hits per decision. */
function redisVariant(
  label: string,
  store: RedisStateStore,
  policy: CompiledPolicy,
  traffic: TrafficMix,
  admin: Redis | Cluster,
): Variant {
  const count = counted();
  const engine = createEngine({ policy, eventTime: "request", state: store, ...count.options });
  return {
    label,
    replay: new Replay(engine, traffic),
    stateErrors: count.errors,
    measureNote: () => {
      let trips = 0;
      let cpu = process.cpuUsage();
      let redisUs = 0;
      let hits = 0;
      let checks = 0;
      return {
        start: async () => {
          redisUs = await redisCpuUs(admin);
          trips = store.roundTrips;
          hits = store.copies.stats.hits;
          checks = store.copies.stats.hits + store.copies.stats.stale;
          cpu = process.cpuUsage();
        },
        note: async (decisions) => {
          const used = process.cpuUsage(cpu);
          const redis = (await redisCpuUs(admin)) - redisUs;
          const n = Math.max(1, decisions);
          const { stats } = store.copies;
          const checked = stats.hits + stats.stale - checks;
          return [
            `${((store.roundTrips - trips) / n).toFixed(2)} Redis round trips per decision`,
            `node CPU ${((used.user + used.system) / n).toFixed(0)} µs and Redis ${(redis / n).toFixed(0)} µs per decision`,
            store.copies.capacity > 0
              ? `${checked === 0 ? 0 : Math.round((100 * (stats.hits - hits)) / checked)}% of ${checked} copy checks same`
              : "no profile copies",
          ].join("; ");
        },
      };
    },
    close: async () => {
      await store.flushPrefix();
      await engine.close();
    },
  };
}

/**
 * A connection for `INFO commandstats` to where a state URL keeps its state: the one server, or a
 * Cluster client (`redis+cluster://`, whose primaries are asked in turn). Not connected yet.
 */
export function redisAdmin(url: string): Redis | Cluster {
  const target = redisTarget(url, url);
  const admin =
    target.kind === "cluster"
      ? new Cluster(
          target.nodes.map((n) => ({ host: n.host, port: n.port })),
          { lazyConnect: true, redisOptions: { maxRetriesPerRequest: 0 } },
        )
      : new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  admin.on("error", () => {});
  return admin;
}

/**
 * Microseconds Redis has spent in commands since its stats were reset (`INFO commandstats`; every
 * client's), summed over a Cluster's primaries.
 */
export async function redisCpuUs(admin: Redis | Cluster): Promise<number> {
  let total = 0;
  for (const server of admin instanceof Cluster ? admin.nodes("master") : [admin]) {
    const info = await server.info("commandstats");
    for (const m of info.matchAll(/usec=(\d+)/g)) total += Number(m[1]);
  }
  return total;
}
