/**
 * `npm run bench`: runs every benchmark group three times, prints a table per group (median and
 * min–max of each figure, ratio to the group's baseline, a verdict per goal) and writes
 * `bench/last-run.json`. Flags: `--quick` (short smoke run), `--only <group>[,<group>…]`, `--out <file>`
 * (write the JSON elsewhere).
 */

import { writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { prepareDurableBench, prepareRedisBench } from "./durable.js";
import { AUTHZ_ROWS, type PreparedBench, prepareAuthzBench, prepareDefaultPolicyBench } from "./engine.js";
import type { BenchResult } from "./result.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPETITIONS = 3;
const IN_FLIGHT = 64;

/** A row as groups return it: the shared shape plus what some rows add. */
type Row = BenchResult & { ops?: number };

interface Range {
  median: number;
  min: number;
  max: number;
}

interface RangedRow {
  name: string;
  opsPerSec: Range;
  p50Us: Range;
  p99Us: Range;
  /** Median throughput over the baseline row's median, when the group has one. */
  ratio?: number;
  baseline?: string;
  note?: string;
  runs: Row[];
}

interface Goal {
  goal: string;
  met: boolean;
  detail: string;
}

interface Group {
  name: string;
  title: string;
  prepare(): Promise<PreparedBench>;
  /** The row a row is compared with, if any. */
  baselineFor?(row: string, rows: readonly RangedRow[]): string | undefined;
  goals?(rows: readonly RangedRow[]): Goal[];
}

interface GroupReport {
  name: string;
  title: string;
  skipped?: string;
  error?: string;
  rows: RangedRow[];
  goals: Goal[];
  /** One-minute load average before and after: other work on the machine skews every figure. */
  load?: { before: number; after: number };
  seconds?: number;
}

const { values: flags } = parseArgs({
  options: { quick: { type: "boolean", default: false }, only: { type: "string" }, out: { type: "string" } },
  strict: true,
});
const quick = flags.quick === true;
const engineOptions = quick
  ? { durationMs: 200, repetitions: REPETITIONS, days: 3, warmupDays: 1 }
  : { durationMs: 2_000, repetitions: REPETITIONS, days: 28, warmupDays: 7 };
const storeOptions = quick
  ? { durationMs: 200, repetitions: REPETITIONS, days: 3, warmupDays: 1, inFlight: IN_FLIGHT }
  : { durationMs: 1_500, repetitions: REPETITIONS, days: 28, warmupDays: 2, inFlight: IN_FLIGHT };
// wrk runs twice per repetition (echo baseline and Signalbox); keep the whole suite within minutes.
process.env.SIGNALBOX_BENCH_HTTP_SECONDS ??= quick ? "2" : "5";

function median(values: readonly number[]): Range {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const m = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median: m, min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

const byName =
  (name: string) =>
  (rows: readonly RangedRow[]): RangedRow | undefined =>
    rows.find((r) => r.name === name);

/** A group backed by an existing `bench/<file>.ts` module exporting `fn() => Promise<BenchResult[]>`. */
function moduleGroup(name: string, title: string, file: string, fn: string, baselineFor?: Group["baselineFor"]): Group {
  return {
    name,
    title,
    baselineFor,
    async prepare() {
      const mod = (await import(`./${file}`)) as Record<string, unknown>;
      const run = mod[fn];
      if (typeof run !== "function") throw new Skip(`bench/${file} does not export ${fn}()`);
      return { run: () => (run as () => Promise<BenchResult[]>)(), close: async () => {} };
    },
  };
}

/** Thrown by a group that cannot run here (a missing service or module): printed as skipped. */
class Skip extends Error {}

const sameConcurrencyMemoryRow = (row: string): string | undefined => {
  const how = /, (sequential|\d+ in flight)$/.exec(row)?.[1];
  const memory = `engine memory state, audit off, ${how}`;
  return how && row !== memory ? memory : undefined;
};

function storeGoals(label: string, extra?: (row: RangedRow) => Goal | undefined) {
  return (rows: readonly RangedRow[]): Goal[] => {
    const goals: Goal[] = [];
    for (const how of ["sequential", `${IN_FLIGHT} in flight`]) {
      const row = byName(`engine ${label}, ${how}`)(rows);
      if (!row || row.ratio === undefined) continue;
      goals.push({
        goal: `${label} ≥ 50% of memory throughput (${how})`,
        met: row.ratio >= 0.5,
        detail: `${pct(row.ratio)} of memory (${pct(row.ratio - 0.5, true)} against the goal)`,
      });
      const more = extra?.(row);
      if (more) goals.push(more);
    }
    return goals;
  };
}

const GROUPS: Group[] = [
  {
    name: "engine",
    title: "engine.decide, default policy, memory state, audit off, all detectors, one core",
    prepare: () => prepareDefaultPolicyBench(engineOptions),
    goals: (rows) => {
      const row = rows[0];
      if (!row) return [];
      return [
        {
          goal: "≥ 50,000 decisions/s",
          met: row.opsPerSec.median >= 50_000,
          detail: `${fmt(row.opsPerSec.median)}/s, ${pct(row.opsPerSec.median / 50_000)} of the goal`,
        },
        {
          goal: "p99 < 100 µs",
          met: row.p99Us.median < 100,
          detail: `p99 ${row.p99Us.median.toFixed(1)} µs, ${(row.p99Us.median / 100).toFixed(2)}× the limit`,
        },
      ];
    },
  },
  {
    name: "authz",
    title: "pure authorization: AuthZEN Todo policy (detectors none) against casbin and Cedar, same questions",
    prepare: () => prepareAuthzBench(engineOptions),
    baselineFor: (row, rows) => (row === AUTHZ_ROWS.signalbox ? fastestBaseline(rows)?.name : undefined),
    goals: (rows) => {
      const sb = byName(AUTHZ_ROWS.signalbox)(rows);
      const fastest = fastestBaseline(rows);
      if (!sb || !fastest) return [];
      const r = sb.opsPerSec.median / fastest.opsPerSec.median;
      return [
        {
          goal: "Signalbox's pure-authorization path at least as fast as the fastest baseline",
          met: r >= 1,
          detail: `${r.toFixed(2)}× ${fastest.name}`,
        },
      ];
    },
  },
  {
    name: "durable",
    title: `durable default (SQLite state + SQLite audit, group commit) against memory-only, same traffic`,
    prepare: () => prepareDurableBench(storeOptions),
    baselineFor: sameConcurrencyMemoryRow,
    goals: storeGoals("SQLite state + SQLite audit"),
  },
  {
    name: "redis",
    title: "Redis state (one node) against memory-only, same traffic",
    prepare: async () => {
      try {
        return await prepareRedisBench(storeOptions);
      } catch (err) {
        throw new Skip(err instanceof Error ? err.message : String(err));
      }
    },
    baselineFor: sameConcurrencyMemoryRow,
    goals: storeGoals("Redis state, audit off", (row) => {
      const trips = Math.max(
        ...row.runs.map((r) => Number(/([\d.]+) Redis round trips/.exec(r.note ?? "")?.[1] ?? Number.NaN)),
      );
      if (Number.isNaN(trips)) return undefined;
      return {
        goal: `≤ 2 Redis round trips per decision (${row.name.replace(/^.*, /, "")})`,
        met: trips <= 2,
        detail: `${trips.toFixed(2)} at most over the repetitions`,
      };
    }),
  },
  moduleGroup(
    "audit",
    "audit trail inserts (group commit), SQLite and PostgreSQL",
    "audit.ts",
    "benchAudit",
    (row, rows) => (row === rows[0]?.name ? undefined : rows[0]?.name),
  ),
  moduleGroup("state", "state adapters: one decision's reads and writes", "state.ts", "benchState", (row) =>
    row.startsWith("state/") && row.endsWith("decision") && row !== "state/memory decision"
      ? "state/memory decision"
      : row.startsWith("state/redis decision,")
        ? "state/memory decision"
        : undefined,
  ),
  moduleGroup("enrich", "enrichment lookups (no baseline: each row is a different lookup)", "enrich.ts", "benchEnrich"),
  moduleGroup(
    "http",
    "HTTP decision service under wrk against a bare Fastify echo server",
    "http.ts",
    "benchHttp",
    (row) => (row === "http fastify echo (baseline)" ? undefined : "http fastify echo (baseline)"),
  ),
];

function fastestBaseline(rows: readonly RangedRow[]): RangedRow | undefined {
  const candidates = [byName(AUTHZ_ROWS.casbin)(rows), byName(AUTHZ_ROWS.cedar)(rows)].filter(
    (r): r is RangedRow => r !== undefined && r.opsPerSec.median > 0,
  );
  return candidates.sort((a, b) => b.opsPerSec.median - a.opsPerSec.median)[0];
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function pct(ratio: number, signed = false): string {
  const v = Math.round(ratio * 100);
  return `${signed && v > 0 ? "+" : ""}${v}${signed ? " points" : "%"}`;
}

function us(r: Range): string {
  const f = (n: number): string => (n >= 100 ? Math.round(n).toString() : n.toFixed(1));
  return `${f(r.median)} (${f(r.min)}–${f(r.max)})`;
}

/** Combines repetitions position by position: every repetition returns the same rows in the same order. */
function combine(group: Group, runs: readonly Row[][]): RangedRow[] {
  const first = runs[0] ?? [];
  const rows: RangedRow[] = first.map((row, i) => {
    const all = runs.map((run) => run[i]).filter((r): r is Row => r !== undefined);
    const last = all[all.length - 1] ?? row;
    const ranged: RangedRow = {
      name: row.name,
      opsPerSec: median(all.map((r) => r.opsPerSec)),
      p50Us: median(all.map((r) => r.p50Us)),
      p99Us: median(all.map((r) => r.p99Us)),
      runs: all,
    };
    if (last.note !== undefined) ranged.note = last.note;
    return ranged;
  });
  for (const row of rows) {
    const baseline = group.baselineFor?.(row.name, rows);
    const base = baseline === undefined ? undefined : byName(baseline)(rows);
    if (base && base.opsPerSec.median > 0 && row.opsPerSec.median > 0) {
      row.baseline = base.name;
      row.ratio = row.opsPerSec.median / base.opsPerSec.median;
    }
  }
  return rows;
}

function table(report: GroupReport): string {
  const lines = [`== ${report.name}: ${report.title}`];
  if (report.skipped !== undefined) return [...lines, `skipped: ${report.skipped}`, ""].join("\n");
  if (report.error !== undefined) lines.push(`error: ${report.error}`);
  if (report.rows.length > 0) {
    const width = Math.max(40, ...report.rows.map((r) => r.name.length));
    lines.push(
      `${"benchmark".padEnd(width)}  ${"ops/s median (min–max)".padEnd(34)}  ${"p50 µs (min–max)".padEnd(22)}  ${"p99 µs (min–max)".padEnd(24)}  ratio`,
    );
    for (const r of report.rows) {
      const ops =
        r.opsPerSec.median > 0 ? `${fmt(r.opsPerSec.median)} (${fmt(r.opsPerSec.min)}–${fmt(r.opsPerSec.max)})` : "—";
      const ratio =
        r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}× ${r.baseline === undefined ? "" : `[${r.baseline}]`}`;
      lines.push(
        `${r.name.padEnd(width)}  ${ops.padEnd(34)}  ${us(r.p50Us).padEnd(22)}  ${us(r.p99Us).padEnd(24)}  ${ratio}`,
      );
      if (r.note) lines.push(`${"".padEnd(width)}  ${r.note}`);
    }
  }
  for (const g of report.goals) lines.push(`goal: ${g.goal}: ${g.met ? "MET" : "NOT MET"} (${g.detail})`);
  return `${lines.join("\n")}\n`;
}

async function runGroup(group: Group): Promise<GroupReport> {
  const report: GroupReport = { name: group.name, title: group.title, rows: [], goals: [] };
  let prepared: PreparedBench;
  try {
    prepared = await group.prepare();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof Skip) report.skipped = message;
    else report.error = message;
    return report;
  }
  const runs: Row[][] = [];
  try {
    for (let i = 0; i < REPETITIONS; i++) runs.push(await prepared.run());
  } catch (err) {
    report.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
  } finally {
    await prepared.close().catch((err: unknown) => {
      report.error ??= `closing: ${err instanceof Error ? err.message : String(err)}`;
    });
  }
  report.rows = combine(group, runs);
  report.goals = group.goals?.(report.rows) ?? [];
  return report;
}

const only = flags.only
  ?.split(",")
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = only?.filter((name) => !GROUPS.some((g) => g.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown group "${unknown.join('", "')}"; groups: ${GROUPS.map((g) => g.name).join(", ")}`);
  process.exit(2);
}

const environment = {
  date: new Date().toISOString(),
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
  node: process.version,
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGb: Math.round(totalmem() / 1e8) / 10,
  platform: `${process.platform} ${process.arch}`,
  quick,
  repetitions: REPETITIONS,
};
console.log(
  `Signalbox benchmarks ${environment.date}\nnode ${environment.node}, ${environment.cpu}, ${environment.cores} cores, ${environment.memoryGb} GB, ${environment.platform}${quick ? ", --quick" : ""}\n` +
    `each figure: median (min–max) of ${REPETITIONS} repetitions\n`,
);

const reports: GroupReport[] = [];
for (const group of GROUPS) {
  if (only && !only.includes(group.name)) continue;
  const started = performance.now();
  const before = loadavg()[0] ?? 0;
  const report = await runGroup(group);
  report.load = { before, after: loadavg()[0] ?? 0 };
  report.seconds = Math.round((performance.now() - started) / 100) / 10;
  reports.push(report);
  console.log(table(report));
  console.log(
    `(${group.name}: ${report.seconds} s; load average ${report.load.before.toFixed(1)} before, ${report.load.after.toFixed(1)} after, on ${cpus().length} cores)\n`,
  );
}

const out = flags.out ?? join(HERE, "last-run.json");
writeFileSync(out, `${JSON.stringify({ environment, groups: reports }, null, 2)}\n`);
console.log(`wrote ${out}`);
process.exit(reports.some((r) => r.error !== undefined) ? 1 : 0);
