/**
 * HTTP throughput of the decision service against a bare Fastify echo server on the same machine,
 * both driven by wrk (`wrk -t1 -c50 -d10s --latency`) with a realistic AuthZEN login body.
 * Run alone with `npx tsx bench/http.ts`; needs `wrk` on the PATH (Debian: `apt-get install wrk`).
 * `npx tsx bench/http.ts --stages` separates the costs: the server alone (memory state, audit off,
 * PEP enrichment), then SQLite audit, SQLite state and database enrichment added one at a time.
 * Each server gets an unmeasured warm-up first (`SIGNALBOX_BENCH_HTTP_WARMUP_SECONDS`, default 2).
 * With `SIGNALBOX_BENCH_HTTP_CPU_PROF=<dir>` every server child writes a V8 CPU profile there.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchResult } from "./result.js";

const THIS_FILE = fileURLToPath(import.meta.url);
const SECONDS = Number(process.env.SIGNALBOX_BENCH_HTTP_SECONDS ?? 10);
const CONNECTIONS = 50;
/** Unmeasured load first, so lazy compilation (JIT, CEL programs, prepared statements) is not in the p99. */
const WARMUP_SECONDS = Number(process.env.SIGNALBOX_BENCH_HTTP_WARMUP_SECONDS ?? 2);
const CPU_PROF_DIR = process.env.SIGNALBOX_BENCH_HTTP_CPU_PROF;

/** What a service child overrides in the default configuration. */
interface Stage {
  readonly name: string;
  readonly state?: string;
  readonly audit?: string;
  readonly enrichment?: "databases" | "pep";
  /** Answer every request with one decision made at start-up: the HTTP layer alone, without the engine. */
  readonly cannedDecision?: boolean;
}

const FULL_STAGE: Stage = { name: "http signalbox POST /access/v1/evaluation" };

/** The cost separation: each stage adds one store or the enrichment to the one before. */
const STAGES: readonly Stage[] = [
  {
    name: "http signalbox HTTP layer only (engine answer canned)",
    state: "memory:",
    audit: "off",
    enrichment: "pep",
    cannedDecision: true,
  },
  {
    name: "http signalbox server only (memory state, audit off, pep)",
    state: "memory:",
    audit: "off",
    enrichment: "pep",
  },
  { name: "http signalbox + SQLite audit", state: "memory:", enrichment: "pep" },
  { name: "http signalbox + SQLite state", enrichment: "pep" },
  { name: "http signalbox + database enrichment (default)" },
];

/** A wrk script POSTing AuthZEN login evaluations for 1,000 users from 250 addresses. */
const WRK_SCRIPT = `
local i = 0
request = function()
  i = i + 1
  local u = i % 1000
  local body = string.format('{"subject":{"type":"user","id":"u%d@example.com","properties":{"roles":["staff"]}},' ..
    '"action":{"name":"login"},"resource":{"type":"application","id":"portal"},' ..
    '"context":{"ip":"198.51.100.%d","user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",' ..
    '"device":{"id":"dev-%d","managed":true},"authn":{"result":"success","method":"password"}}}', u, u % 250, u)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
`;

interface WrkFigures {
  readonly requestsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly non2xx: number;
}

const UNIT_US: Readonly<Record<string, number>> = { us: 1, ms: 1000, s: 1_000_000 };

function latencyUs(output: string, percentile: string): number {
  const m = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(output);
  if (!m?.[1] || !m[2]) throw new Error(`wrk output has no ${percentile}% latency`);
  return Number(m[1]) * (UNIT_US[m[2]] ?? Number.NaN);
}

/** Reads requests/s, p50, p99 and the non-2xx count from wrk's `--latency` report. */
export function parseWrk(output: string): WrkFigures {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output)?.[1];
  if (rps === undefined) throw new Error(`wrk output has no Requests/sec line:\n${output}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  return { requestsPerSec: Number(rps), p50Us: latencyUs(output, "50"), p99Us: latencyUs(output, "99"), non2xx };
}

function runWrk(url: string, script: string): WrkFigures {
  if (WARMUP_SECONDS > 0) {
    spawnSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${WARMUP_SECONDS}s`, "-s", script, url], {
      timeout: (WARMUP_SECONDS + 30) * 1000,
    });
  }
  const res = spawnSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", "-s", script, url], {
    encoding: "utf8",
    timeout: (SECONDS + 30) * 1000,
  });
  if (res.error) throw new Error(`cannot run wrk (${res.error.message}); install it with apt-get install -y wrk`);
  if (res.status !== 0) throw new Error(`wrk failed: ${res.stderr}`);
  return parseWrk(res.stdout);
}

/** Starts this file as a child in server mode and resolves with the URL it prints. */
function startChild(
  kind: "signalbox" | "echo",
  dataDir: string,
  stage?: Stage,
): Promise<{ url: string; child: ChildProcess }> {
  const profile = CPU_PROF_DIR ? ["--cpu-prof", "--cpu-prof-dir", CPU_PROF_DIR] : [];
  const args = [...profile, "--import", "tsx", THIS_FILE, "--serve", kind, dataDir, JSON.stringify(stage ?? {})];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start within 60 s`)), 60_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const m = /READY (\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited with ${code} before it was ready`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

async function measureService(dir: string, script: string, stage: Stage): Promise<WrkFigures> {
  const service = await startChild("signalbox", join(dir, String(Math.random()).slice(2)), stage);
  try {
    return runWrk(`${service.url}/access/v1/evaluation`, script);
  } finally {
    await stopChild(service.child);
  }
}

function serviceRow(stage: Stage, figures: WrkFigures, echo: WrkFigures): BenchResult {
  const ratio = figures.requestsPerSec / echo.requestsPerSec;
  const setup =
    stage === FULL_STAGE
      ? "default policy, SQLite state and audit, database enrichment"
      : stage.cannedDecision
        ? "every answer the same decision made at start-up (no engine work)"
        : `state ${stage.state ?? "SQLite"}, audit ${stage.audit ?? "SQLite"}, enrichment ${stage.enrichment ?? "databases"}`;
  return {
    name: stage.name,
    opsPerSec: Math.round(figures.requestsPerSec),
    p50Us: Math.round(figures.p50Us),
    p99Us: Math.round(figures.p99Us),
    note: `${(ratio * 100).toFixed(0)}% of the echo baseline; ${setup}, log level warn; non-2xx ${figures.non2xx}`,
  };
}

/** The echo baseline, then the service once per stage (by default only with the default stores). */
export async function benchHttp(stages: readonly Stage[] = [FULL_STAGE]): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "signalbox-bench-http-"));
  const script = join(dir, "authzen-login.lua");
  writeFileSync(script, WRK_SCRIPT);
  try {
    const echo = await startChild("echo", dir);
    let echoFigures: WrkFigures;
    try {
      echoFigures = runWrk(`${echo.url}/echo`, script);
    } finally {
      await stopChild(echo.child);
    }
    const results: BenchResult[] = [
      {
        name: "http fastify echo (baseline)",
        opsPerSec: Math.round(echoFigures.requestsPerSec),
        p50Us: Math.round(echoFigures.p50Us),
        p99Us: Math.round(echoFigures.p99Us),
        note: `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s after a ${WARMUP_SECONDS} s warm-up, on loopback, same machine`,
      },
    ];
    for (const stage of stages) results.push(serviceRow(stage, await measureService(dir, script, stage), echoFigures));
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Child mode: one server, printing `READY <url>`, stopping on SIGTERM. */
async function serveChild(kind: string, dataDir: string, stage: Stage): Promise<void> {
  if (kind === "echo") {
    const { default: Fastify } = await import("fastify");
    const app = Fastify({ logger: false });
    app.post("/echo", async (request) => request.body);
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    process.stdout.write(`READY http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}\n`);
    process.once("SIGTERM", () => void app.close().then(() => process.exit(0)));
    return;
  }
  const { loadConfig } = await import("../src/config/load-config.js");
  const { startService } = await import("../src/runtime/start-service.js");
  const config = {
    ...loadConfig({ env: process.env }),
    port: 0,
    dataDir: join(dataDir, "data"),
    logLevel: "warn" as const,
    ...(stage.state === undefined ? {} : { state: stage.state }),
    ...(stage.audit === undefined ? {} : { audit: stage.audit }),
    ...(stage.enrichment === undefined ? {} : { enrichment: stage.enrichment }),
  };
  const service = await startService(config, { watch: false });
  if (stage.cannedDecision) {
    const engine = service.runtime.engine;
    const canned = await engine.decide({
      subject: { type: "user", id: "u1@example.com" },
      action: { name: "login" },
      resource: { type: "application", id: "portal" },
    });
    engine.decide = async () => canned;
  }
  process.stdout.write(`READY ${service.url}\n`);
  process.once("SIGTERM", () => void service.close().then(() => process.exit(0)));
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const serveAt = process.argv.indexOf("--serve");
  if (serveAt >= 0) {
    const stage = JSON.parse(process.argv[serveAt + 3] ?? "{}") as Stage;
    await serveChild(process.argv[serveAt + 1] ?? "", process.argv[serveAt + 2] ?? tmpdir(), stage);
  } else {
    const stages = process.argv.includes("--stages") ? STAGES : [FULL_STAGE];
    for (const r of await benchHttp(stages)) {
      process.stdout.write(
        `${r.name.padEnd(46)} ${String(r.opsPerSec).padStart(8)} req/s  p50 ${r.p50Us} µs  p99 ${r.p99Us} µs  ${r.note ?? ""}\n`,
      );
    }
  }
}
