/**
 * Benchmarks decision-record inserts through the group-commit writer on SQLite and PostgreSQL, in
 * both durability modes, with many decisions in flight as a busy server has them.
 * Run alone with `npx tsx bench/audit.ts`.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ChainedAuditTrail } from "../src/audit/chained-trail.js";
import type { DecisionEntry } from "../src/audit/port.js";
import { PostgresAuditBackend } from "../src/audit/postgres-backend.js";
import { type Durability, SqliteAuditBackend } from "../src/audit/sqlite-backend.js";
import type { AuditBackend } from "../src/audit/store.js";
import type { BenchResult } from "./result.js";

const POSTGRES_URL = process.env.SIGNALBOX_BENCH_POSTGRES ?? "postgresql://postgres@127.0.0.1:5432/test";
const T0 = Date.UTC(2026, 0, 5);

/** A decision entry of typical size: one finding, one reason, a request with context. */
function entry(n: number): DecisionEntry {
  const time = T0 + n;
  return {
    request: {
      subject: { type: "user", id: `u${n % 1000}` },
      action: { name: "read" },
      resource: { type: "document", id: `doc-${n % 5000}` },
      context: {
        ip: `10.0.${n % 250}.${n % 7}`,
        user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
        session: { id: `s-${n % 3000}` },
        token: { jti: `jti-${n}` },
        device: { id: `d-${n % 300}`, managed: true },
      },
    },
    decision: {
      id: `0190a000-0000-7000-8000-${String(n).padStart(12, "0")}`,
      controlPath: n % 10 === 0 ? "step_up" : "allow",
      decision: n % 10 !== 0,
      score: n % 100,
      band: "low",
      segment: "workforce",
      reasons: [{ code: "new_device", message: "first request from this device" }],
      findings: [
        {
          detector: "new_device",
          severity: "medium",
          points: 40,
          contribution: 20,
          code: "new_device",
          message: "first request from this device",
          evidence: { device: `d-${n % 300}`, known_devices: 3 },
        },
      ],
      obligations: [],
      matched: [{ id: "ladder-0", kind: "ladder", path: "allow" }],
      policy: { id: "default", revision: "1" },
      errors: [],
      time,
      extras: {},
      timings: { totalUs: 210, stateUs: 60, detectUs: 90, policyUs: 30 },
    },
    wallTime: time,
    engineVersion: "bench",
  };
}

async function measure(name: string, backend: AuditBackend, records: number, inFlight: number): Promise<BenchResult> {
  const trail = await ChainedAuditTrail.open(backend, { writerId: `bench-${randomUUID()}`, maskKey: "bench" });
  for (let i = 0; i < 200; i++) await trail.recordDecision(entry(i));
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < records) {
      const n = 1000 + next++;
      const t = process.hrtime.bigint();
      await trail.recordDecision(entry(n));
      latencies.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await trail.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return {
    name,
    opsPerSec: Math.round(records / seconds),
    p50Us: at(0.5),
    p99Us: at(0.99),
    note: `${inFlight} in flight; latency is until the record's batch is committed`,
  };
}

async function sqlite(durability: Durability, inFlight: number, records: number): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "signalbox-bench-audit-"));
  try {
    const backend = await SqliteAuditBackend.open({ file: join(dir, "audit.db"), durability });
    return await measure(`audit sqlite ${durability} record`, backend, records, inFlight);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(durability: Durability, inFlight: number, records: number): Promise<BenchResult> {
  const schema = `sbbench_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  let admin: PostgresAuditBackend | undefined;
  try {
    admin = await PostgresAuditBackend.open({ connectionString: POSTGRES_URL, schema });
    const backend = await PostgresAuditBackend.open({ connectionString: POSTGRES_URL, schema, durability });
    return await measure(`audit postgresql ${durability} record`, backend, records, inFlight);
  } catch (err) {
    return {
      name: `audit postgresql ${durability} record`,
      opsPerSec: 0,
      p50Us: 0,
      p99Us: 0,
      note: `skipped: ${err instanceof Error ? err.message : String(err)}`,
    };
  } finally {
    await admin?.dropSchema().catch(() => {});
    await admin?.close().catch(() => {});
  }
}

export async function benchAudit(): Promise<BenchResult[]> {
  return [
    await sqlite("normal", 256, 50_000),
    await sqlite("strict", 256, 20_000),
    await sqlite("normal", 1, 2_000),
    await postgres("normal", 256, 30_000),
    await postgres("strict", 256, 20_000),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const r of await benchAudit()) console.log(JSON.stringify(r));
}
