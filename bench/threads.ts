/**
 * Where a durable decision's CPU goes, thread by thread: replays the simulator's traffic through
 * `engine.decide` with many decisions in flight and prints each thread's CPU per decision (user +
 * system, read from `/proc/self/task/<tid>/stat` before and after the timed part; Linux only).
 * The main thread is the first row; the SQLite writer threads, the WAL checkpoint thread and V8's
 * helper threads follow in the order they started.
 *
 *   npx tsx bench/threads.ts [--stores memory|durable|state|audit|redis] [--in-flight 64] [--decisions 20000]
 *                            [--profile-cache 10000] [--nodes 1]
 *
 * `durable` is the embedded default (SQLite state and SQLite audit); `state` and `audit` add one
 * of them to the memory-only engine. `redis` is Redis state (`SIGNALBOX_BENCH_REDIS`, default
 * redis://127.0.0.1:6379/0) with audit off, keeping `--profile-cache` identity profile copies (0:
 * none); it also prints Redis's own time per decision from `INFO commandstats` (every client's;
 * summed over the primaries when `SIGNALBOX_BENCH_REDIS` is a `redis+cluster://` URL).
 * `--nodes 2` (Redis only) makes two engines with stores of their own on one key prefix, as two
 * nodes would be, and deals the requests to them in turn, as a load balancer without affinity
 * does: every identity is then written by both, and the copies' checks show what that costs.
 */

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openAuditTrail } from "../src/audit/open-audit.js";
import { createEngine } from "../src/engine/create-engine.js";
import type { Engine } from "../src/engine/engine.js";
import type { AccessRequest } from "../src/model/request.js";
import { loadPolicy } from "../src/policy/load.js";
import { openStateStore } from "../src/state/open-state.js";
import type { StateStore } from "../src/state/port.js";
import { RedisStateStore } from "../src/state/redis.js";
import { redisAdmin, redisCpuUs } from "./durable.js";
import { simulatedTraffic } from "./requests.js";
import { spentPer, threadCpu } from "./thread-cpu.js";

const STORES = ["memory", "durable", "state", "audit", "redis"] as const;
const REDIS_URL = process.env.SIGNALBOX_BENCH_REDIS ?? "redis://127.0.0.1:6379/0";
type Stores = (typeof STORES)[number];

function positive(name: string, text: string, least = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < least) {
    throw new Error(`--${name} must be a whole number${least === 1 ? " above 0" : ", 0 or more"}, got "${text}"`);
  }
  return n;
}

/** Hands out the traffic's requests in order, request `i` to engine `i mod n` (a balancer without affinity). */
function dealer(engines: readonly Engine[], requests: readonly AccessRequest[]): () => Promise<unknown> | undefined {
  let next = 0;
  return () => {
    const i = next++;
    const request = requests[i];
    return request === undefined ? undefined : (engines[i % engines.length] as Engine).decide(request);
  };
}

/** Runs every request `deal` hands out, `inFlight` at a time. */
async function runAll(deal: () => Promise<unknown> | undefined, inFlight: number): Promise<void> {
  const worker = async (): Promise<void> => {
    for (let p = deal(); p !== undefined; p = deal()) await p;
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

async function main(): Promise<void> {
  if (!existsSync("/proc/self/task")) throw new Error("bench/threads.ts reads /proc/self/task: Linux only");
  const { values } = parseArgs({
    options: {
      stores: { type: "string", default: "durable" },
      "in-flight": { type: "string", default: "64" },
      decisions: { type: "string", default: "20000" },
      "profile-cache": { type: "string", default: "10000" },
      nodes: { type: "string", default: "1" },
    },
  });
  const stores = values.stores as Stores;
  if (!STORES.includes(stores)) throw new Error(`--stores must be one of ${STORES.join(", ")}, got "${stores}"`);
  const inFlight = positive("in-flight", values["in-flight"]);
  const decisions = positive("decisions", values.decisions);
  const profileCacheSize = positive("profile-cache", values["profile-cache"], 0);
  const nodes = positive("nodes", values.nodes);
  if (nodes > 1 && stores !== "redis") throw new Error("--nodes above 1 needs --stores redis (the one shared store)");

  const traffic = simulatedTraffic({ days: 28, warmupDays: 7 });
  if (traffic.measured.length < decisions) {
    throw new Error(`--decisions is at most ${traffic.measured.length} (the simulated traffic's timed part)`);
  }
  const dir = mkdtempSync(join(tmpdir(), "signalbox-bench-threads-"));
  const prefix = `sbbench-threads-${process.pid}:`;
  const redis =
    stores === "redis"
      ? Array.from(
          { length: nodes },
          () => new RedisStateStore({ url: REDIS_URL, keyPrefix: prefix, profileCacheSize }),
        )
      : [];
  const admin = stores === "redis" ? redisAdmin(REDIS_URL) : undefined;
  const engines: Engine[] = [];
  try {
    for (const r of redis) await r.ready();
    await admin?.connect();
    const policy = await loadPolicy();
    const audit = stores === "durable" || stores === "audit" ? await openAuditTrail("sqlite:", dir) : undefined;
    const states: (StateStore | undefined)[] =
      stores === "redis"
        ? redis
        : [stores === "durable" || stores === "state" ? await openStateStore("sqlite:", dir) : undefined];
    for (const state of states) {
      engines.push(
        createEngine({
          policy,
          eventTime: "request",
          // A queue of decisions waiting on a store must not time out into on_error: that measures the fallback.
          stateTimeoutMs: 2_000,
          ...(state ? { state } : {}),
          ...(audit ? { audit } : {}),
        }),
      );
    }
    process.stdout.write(`warming up on ${traffic.warmup.length} decisions…\n`);
    await runAll(dealer(engines, traffic.warmup), inFlight);
    const redisBefore = admin ? await redisCpuUs(admin) : 0;
    const copiesBefore = redis.map((r) => ({ ...r.copies.stats }));
    const before = threadCpu() ?? new Map<string, number>();
    const start = process.hrtime.bigint();
    await runAll(dealer(engines, traffic.measured.slice(0, decisions)), inFlight);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const after = threadCpu() ?? new Map<string, number>();
    const redisSpent = admin ? (await redisCpuUs(admin)) - redisBefore : 0;
    const dealt = nodes > 1 ? ` dealt in turn to ${nodes} nodes in this process` : "";
    process.stdout.write(
      `${stores}, ${inFlight} in flight: ${decisions} decisions${dealt}, ${Math.round(decisions / seconds)}/s, ` +
        `${((seconds * 1e6) / decisions).toFixed(1)} µs of wall time per decision\n`,
    );
    process.stdout.write("CPU per decision by thread (first: the main thread):\n");
    for (const { tid, us } of spentPer(before, after, decisions)) {
      process.stdout.write(`  thread ${tid.padEnd(8)} ${us.toFixed(1)} µs\n`);
    }
    if (admin) {
      process.stdout.write(`Redis: ${(redisSpent / decisions).toFixed(1)} µs per decision (INFO commandstats)\n`);
      redis.forEach((r, i) => {
        const was = copiesBefore[i];
        const { hits, stale, suspensions } = r.copies.stats;
        process.stdout.write(
          `  node ${i + 1}: profile copies (at most ${profileCacheSize}): ${hits - (was?.hits ?? 0)} reads served, ` +
            `${stale - (was?.stale ?? 0)} out of date, set aside ${suspensions - (was?.suspensions ?? 0)} times\n`,
        );
      });
      await redis[0]?.flushPrefix();
    }
  } finally {
    for (const engine of engines) await engine.close().catch(() => {});
    admin?.disconnect();
    for (const r of redis) await r.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/threads.ts: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
