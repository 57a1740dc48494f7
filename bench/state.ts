/**
 * Benchmarks a typical decision's state traffic (one read of 3 profiles, 4 counters and 1 claim,
 * then one write of 8 updates) on the memory, SQLite and Redis adapters, and Redis memory per identity.
 * Run alone with `npx tsx bench/state.ts`.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { MemoryStateStore } from "../src/state/memory.js";
import type { StateQuery, StateStore, StateUpdate } from "../src/state/port.js";
import { RedisStateStore } from "../src/state/redis.js";
import { SqliteStateStore } from "../src/state/sqlite.js";
import type { BenchResult } from "./result.js";

const REDIS_URL = process.env.SIGNALBOX_BENCH_REDIS ?? "redis://127.0.0.1:6379/0";
const IDENTITIES = 1_000;
const T0 = Date.UTC(2026, 0, 5);
const MINUTE = 60_000;

/** The state one decision of identity `i` reads, and what it writes back, at time `now`. */
export function decisionTraffic(i: number, now: number): { query: StateQuery; updates: StateUpdate[] } {
  const user = `user:u${i}`;
  const device = `device:d${i % 300}`;
  const ip = `ip:10.0.${i % 250}.${i % 7}`;
  const query: StateQuery = {
    profiles: [user, device, "global:login"],
    counters: [
      { key: `${user}:login_failures`, windowMs: 10 * MINUTE },
      { key: `${user}:new_resources`, windowMs: 60 * MINUTE },
      { key: `${ip}:users`, windowMs: 60 * MINUTE, distinct: true },
      { key: "global:login:attempts", windowMs: MINUTE },
    ],
    claims: [{ key: `jti:${i}-${now}`, holder: { device, ip }, ttlMs: 60 * MINUTE }],
  };
  const hour = String(Math.floor(now / 3_600_000) % 168);
  const updates: StateUpdate[] = [
    { op: "see", profile: user, field: "devices", value: device, at: now, cap: 20 },
    { op: "see", profile: user, field: "countries", value: i % 10 === 0 ? "DE" : "FR", at: now, cap: 20 },
    { op: "see", profile: user, field: "asns", value: `AS${3000 + (now % 5)}`, at: now, cap: 30 },
    { op: "see", profile: user, field: "hours", value: hour, at: now, cap: 168 },
    { op: "set", profile: user, field: "last_location", value: { lat: 48.85, lon: 2.35, at: now } },
    { op: "see", profile: device, field: "users", value: user, at: now, cap: 50 },
    { op: "incr", counter: "global:login:attempts", at: now, by: 1, windowMs: MINUTE },
    { op: "distinct", counter: `${ip}:users`, member: user, at: now, windowMs: 60 * MINUTE },
  ];
  return { query, updates };
}

async function measure(
  name: string,
  store: StateStore,
  decisions: number,
  inFlight = 1,
  note?: string,
): Promise<BenchResult> {
  // warm up: scripts loaded, statements prepared, profiles created
  for (let i = 0; i < Math.min(200, decisions); i++) {
    const { query, updates } = decisionTraffic(i % IDENTITIES, T0 + i);
    await store.read(query, T0 + i);
    await store.write(updates, T0 + i);
  }
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < decisions) {
      const n = next++;
      const now = T0 + MINUTE + n * 10;
      const { query, updates } = decisionTraffic(n % IDENTITIES, now);
      const t = process.hrtime.bigint();
      await store.read(query, now);
      await store.write(updates, now);
      latencies.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0);
  const result: BenchResult = { name, opsPerSec: Math.round(decisions / seconds), p50Us: pct(0.5), p99Us: pct(0.99) };
  if (note) result.note = note;
  return result;
}

export async function benchState(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const note = "one decision = read (3 profiles, 4 counters, 1 claim) + write (8 updates)";
  results.push(await measure("state/memory decision", new MemoryStateStore(), 50_000, 1, note));

  const dir = mkdtempSync(join(tmpdir(), "signalbox-bench-"));
  try {
    const sqlite = await SqliteStateStore.open({ file: join(dir, "state.db") });
    results.push(await measure("state/sqlite decision", sqlite, 10_000, 1, `${note}; WAL, synchronous=NORMAL`));
    await sqlite.close();
    const strict = await SqliteStateStore.open({ file: join(dir, "strict.db"), strict: true });
    results.push(await measure("state/sqlite-strict decision", strict, 2_000, 1, `${note}; WAL, synchronous=FULL`));
    await strict.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const prefix = `sbbench-${process.pid}:`;
  const redis = new RedisStateStore({ url: REDIS_URL, keyPrefix: prefix });
  try {
    await redis.ready();
  } catch (err) {
    results.push({
      name: "state/redis decision",
      opsPerSec: 0,
      p50Us: 0,
      p99Us: 0,
      note: `skipped: ${(err as Error).message}`,
    });
    await redis.close();
    return results;
  }
  try {
    const before = redis.roundTrips;
    const one = await measure("state/redis decision", redis, 5_000, 1, note);
    // measure() ran 200 warm-up decisions plus 5000 measured ones
    const perDecision = (redis.roundTrips - before) / 5_200;
    one.note = `${note}; ${perDecision.toFixed(2)} round trips per decision`;
    results.push(one);
    results.push(await measure("state/redis decision, 32 in flight", redis, 20_000, 32, note));
    const bytes = await redisMemoryPerIdentity(redis);
    results.push({
      name: "state/redis memory per identity",
      opsPerSec: 0,
      p50Us: 0,
      p99Us: 0,
      note: `${Math.round(bytes)} bytes per identity (profile + 2 counters) after 50 decisions each, MEMORY USAGE`,
    });
  } finally {
    await redis.flushPrefix();
    await redis.close();
  }
  return results;
}

/** Mean bytes of one identity's keys after 50 decisions of learning, over a sample of identities. */
export async function redisMemoryPerIdentity(store: RedisStateStore, sample = 50): Promise<number> {
  for (let d = 0; d < 50; d++) {
    for (let i = 0; i < sample; i++) {
      const now = T0 + 2 * 3_600_000 * d + i;
      const { updates } = decisionTraffic(100_000 + i, now);
      await store.write(
        [
          ...updates,
          { op: "incr", counter: `user:u${100_000 + i}:login_failures`, at: now, by: 1, windowMs: 10 * MINUTE },
        ],
        now,
      );
    }
  }
  let total = 0;
  for (let i = 0; i < sample; i++) {
    const user = `user:u${100_000 + i}`;
    total += await store.memoryUsage({
      profiles: [user],
      counters: [`${user}:login_failures`, `${user}:new_resources`],
    });
  }
  return total / sample;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const r of await benchState()) console.log(JSON.stringify(r));
}
