/** Measures an async operation's throughput and latency percentiles, for `signalbox bench` and `npm run bench`. */

import { performance } from "node:perf_hooks";

export interface Measurement {
  readonly name: string;
  readonly ops: number;
  readonly opsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly note?: string;
}

export interface MeasureOptions {
  /** Untimed warm-up calls first (JIT, caches). Default 2,000. */
  warmup?: number;
  /** How long to measure. Default 2,000 ms. */
  durationMs?: number;
  /** Hard cap on timed calls. Default 2,000,000. */
  maxOps?: number;
  /**
   * Calls kept in flight at once. Default 1: one at a time, so the figures are per core and per call.
   * More lets work that waits on I/O (a group commit, a Redis round trip) overlap, as on a busy server.
   */
  inFlight?: number;
}

/** Calls `op(i)` one at a time by default (no overlap: the figures are per-core and per-call). */
export async function measure(
  name: string,
  op: (i: number) => Promise<unknown> | unknown,
  options: MeasureOptions = {},
): Promise<Measurement> {
  const warmup = options.warmup ?? 2_000;
  const durationMs = options.durationMs ?? 2_000;
  const maxOps = options.maxOps ?? 2_000_000;
  for (let i = 0; i < warmup; i++) await op(i);
  const inFlight = Math.max(1, options.inFlight ?? 1);
  const samples = new Float64Array(Math.min(maxOps, 4_000_000));
  let n = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async (): Promise<void> => {
    while (n < maxOps) {
      const t = performance.now();
      if (t >= deadline) break;
      const i = n++;
      await op(warmup + i);
      samples[i] = performance.now() - t;
    }
  };
  if (inFlight === 1) await worker();
  else await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = performance.now() - start;
  const sorted = samples.subarray(0, n).sort();
  return {
    name,
    ops: n,
    opsPerSec: n / (elapsed / 1000),
    p50Us: percentile(sorted, 0.5) * 1000,
    p99Us: percentile(sorted, 0.99) * 1000,
  };
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** A fixed-width table of measurements, with each row's ratio to the first. */
export function formatMeasurements(rows: readonly Measurement[]): string {
  const base = rows[0]?.opsPerSec ?? 1;
  const lines = [
    `${"benchmark".padEnd(58)} ${"ops/s".padStart(10)} ${"p50 µs".padStart(9)} ${"p99 µs".padStart(9)} ${"ratio".padStart(7)}`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.name.padEnd(58)} ${Math.round(r.opsPerSec).toString().padStart(10)} ${r.p50Us.toFixed(1).padStart(9)} ${r.p99Us
        .toFixed(1)
        .padStart(9)} ${(r.opsPerSec / base).toFixed(2).padStart(7)}${r.note ? `  ${r.note}` : ""}`,
    );
  }
  return lines.join("\n");
}
