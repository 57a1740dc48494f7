/**
 * HTTP throughput of the decision service against a bare Fastify echo server on the same machine,
 * both driven by wrk (`wrk -t1 -c50 -d10s --latency`) with realistic AuthZEN login bodies: 1,000
 * returning users, taught once through a passed step-up before the run, signing in from their usual
 * device and residential address; every tenth request is an identity's first sign-in (a step-up that
 * waits for its outcome). `SIGNALBOX_BENCH_HTTP_TRAFFIC=first-seen` sends the older traffic instead:
 * the same 1,000 users never taught, so every answer is a step-up (and a pending record) forever.
 * Run alone with `npx tsx bench/http.ts`; needs `wrk` on the PATH (Debian: `apt-get install wrk`).
 * `npx tsx bench/http.ts --stages` separates the costs: the server alone (memory state, audit off,
 * PEP enrichment), then SQLite audit, SQLite state and database enrichment added one at a time;
 * `--stages=3,4` runs only those stages (numbered from 1, in that order), with the echo.
 * The service runs the compiled code in dist/ (built first with `tsc`), as `signalbox serve` does;
 * the TypeScript loader the benchmarks themselves run under is not part of what is measured.
 * Each server gets an unmeasured warm-up first (`SIGNALBOX_BENCH_HTTP_WARMUP_SECONDS`, default 2).
 * With `SIGNALBOX_BENCH_HTTP_CPU_PROF=<dir>` every server child writes a V8 CPU profile there
 * (`CPU.<date>.<time>.<pid>.0.<n>.cpuprofile`; the `.1.` files are the module loader's thread).
 * On Linux each row also reports the server's CPU time per request (user + system, from /proc): on a
 * shared machine it moves much less than requests/s, which count the time other processes take.
 * It is also given per thread, in the order the threads started: the main thread, V8's helpers,
 * then the worker threads (SQLite writers, the WAL checkpointer) as the service starts them.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Engine } from "../src/engine/engine.js";
import type { BenchResult } from "./result.js";
import { spentPer, threadCpu } from "./thread-cpu.js";

const THIS_FILE = fileURLToPath(import.meta.url);
const SECONDS = Number(process.env.SIGNALBOX_BENCH_HTTP_SECONDS ?? 10);
const CONNECTIONS = 50;
/** Unmeasured load first, so lazy compilation (JIT, CEL programs, prepared statements) is not in the p99. */
const WARMUP_SECONDS = Number(process.env.SIGNALBOX_BENCH_HTTP_WARMUP_SECONDS ?? 2);
const CPU_PROF_DIR = process.env.SIGNALBOX_BENCH_HTTP_CPU_PROF;
const TRAFFIC: "returning" | "first-seen" =
  process.env.SIGNALBOX_BENCH_HTTP_TRAFFIC === "first-seen" ? "first-seen" : "returning";

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

const USERS = 1000;
/** Five residential /24s in five countries (found in the bundled DB-IP and ASN data), 50 addresses each. */
const NETWORKS = ["81.2.69.", "89.160.20.", "73.162.10.", "80.187.100.", "84.39.10."];
const AGENTS = [
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
];

/** User `u`'s login: always the same device, address (user `u % 250`'s) and browser. The wrk script builds the same text. */
export function loginBody(u: number): string {
  const a = u % 250;
  return (
    `{"subject":{"type":"user","id":"u${u}@example.com","properties":{"roles":["staff"]}},` +
    `"action":{"name":"login"},"resource":{"type":"application","id":"portal"},` +
    `"context":{"ip":"${NETWORKS[Math.floor(a / 50)]}${10 + (a % 50)}","user_agent":"${AGENTS[u % 3]}",` +
    `"device":{"id":"dev-${u}","managed":true},"authn":{"result":"success","method":"password"}}}`
  );
}

const luaList = (items: readonly string[]) => `{${items.map((x) => JSON.stringify(x)).join(", ")}}`;

/**
 * A wrk script POSTing AuthZEN login evaluations. Returning traffic: users 0–999 in turn, and every
 * tenth request a user never seen before. First-seen traffic: users 0–999 only, never taught.
 */
export const WRK_SCRIPT = `
local i = 0
local networks = ${luaList(NETWORKS)}
local agents = ${luaList(AGENTS)}
local newcomers = ${TRAFFIC === "returning" ? "true" : "false"}
request = function()
  i = i + 1
  local u = i % ${USERS}
  if newcomers and i % 10 == 0 then u = ${USERS} + i end
  local a = u % 250
  local body = string.format('{"subject":{"type":"user","id":"u%d@example.com","properties":{"roles":["staff"]}},' ..
    '"action":{"name":"login"},"resource":{"type":"application","id":"portal"},' ..
    '"context":{"ip":"%s%d","user_agent":"%s",' ..
    '"device":{"id":"dev-%d","managed":true},"authn":{"result":"success","method":"password"}}}',
    u, networks[math.floor(a / 50) + 1], 10 + a % 50, agents[u % 3 + 1], u)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
`;

interface WrkFigures {
  readonly requestsPerSec: number;
  readonly requests: number;
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
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? 0);
  return {
    requestsPerSec: Number(rps),
    requests,
    p50Us: latencyUs(output, "50"),
    p99Us: latencyUs(output, "99"),
    non2xx,
  };
}

/** User + system CPU seconds a process has used, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  const file = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(file)) return undefined;
  // the fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 Hz)
  const fields = readFileSync(file, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Measured extends WrkFigures {
  /** The server's CPU time per measured request, in µs, when the platform tells. */
  readonly cpuUs?: number;
  /** The same by thread, in the order they started (the main thread first), threads under 1 µs left out. */
  readonly threadUs?: readonly number[];
}

function runWrk(url: string, script: string, pid?: number): Measured {
  if (WARMUP_SECONDS > 0) {
    spawnSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${WARMUP_SECONDS}s`, "-s", script, url], {
      timeout: (WARMUP_SECONDS + 30) * 1000,
    });
  }
  const cpuBefore = cpuSeconds(pid);
  const threadsBefore = pid === undefined ? undefined : threadCpu(pid);
  const res = spawnSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", "-s", script, url], {
    encoding: "utf8",
    timeout: (SECONDS + 30) * 1000,
  });
  const cpuAfter = cpuSeconds(pid);
  const threadsAfter = pid === undefined ? undefined : threadCpu(pid);
  if (res.error) throw new Error(`cannot run wrk (${res.error.message}); install it with apt-get install -y wrk`);
  if (res.status !== 0) throw new Error(`wrk failed: ${res.stderr}`);
  const figures = parseWrk(res.stdout);
  if (cpuBefore === undefined || cpuAfter === undefined || figures.requests === 0) return figures;
  const threadUs =
    threadsBefore && threadsAfter
      ? spentPer(threadsBefore, threadsAfter, figures.requests)
          .map((t) => t.us)
          .filter((us) => us >= 1)
      : undefined;
  return {
    ...figures,
    cpuUs: ((cpuAfter - cpuBefore) * 1e6) / figures.requests,
    ...(threadUs ? { threadUs } : {}),
  };
}

let distBuilt = false;

/**
 * Compiles src/ into dist/ (`tsc -p tsconfig.json`, what `npm install` runs), so the measured service
 * is the code `signalbox serve` runs and never a stale build. Once per process: the suite calls
 * `benchHttp` once per repetition.
 */
function buildDist(): void {
  if (distBuilt) return;
  const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));
  const project = fileURLToPath(new URL("../tsconfig.json", import.meta.url));
  const res = spawnSync(process.execPath, [tsc, "-p", project], { encoding: "utf8", timeout: 300_000 });
  if (res.status !== 0) throw new Error(`building dist/ failed: ${res.error?.message ?? ""}${res.stdout}${res.stderr}`);
  distBuilt = true;
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

async function measureService(dir: string, script: string, stage: Stage): Promise<Measured> {
  const service = await startChild("signalbox", join(dir, String(Math.random()).slice(2)), stage);
  try {
    return runWrk(`${service.url}/access/v1/evaluation`, script, service.child.pid);
  } finally {
    await stopChild(service.child);
  }
}

const cpuNote = (m: Measured) =>
  (m.cpuUs === undefined ? "" : `; server CPU ${Math.round(m.cpuUs)} µs/request`) +
  (m.threadUs === undefined ? "" : ` (by thread, main first: ${m.threadUs.map((us) => Math.round(us)).join(", ")})`);

function serviceRow(stage: Stage, figures: Measured, echo: Measured): BenchResult {
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
    note: `${(ratio * 100).toFixed(0)}% of the echo baseline; ${setup}, log level warn, ${TRAFFIC} traffic; non-2xx ${figures.non2xx}${cpuNote(figures)}`,
  };
}

/** The echo baseline, then the service once per stage (by default only with the default stores). */
export async function benchHttp(stages: readonly Stage[] = [FULL_STAGE]): Promise<BenchResult[]> {
  buildDist();
  const dir = mkdtempSync(join(tmpdir(), "signalbox-bench-http-"));
  const script = join(dir, "authzen-login.lua");
  writeFileSync(script, WRK_SCRIPT);
  try {
    const echo = await startChild("echo", dir);
    let echoFigures: Measured;
    try {
      echoFigures = runWrk(`${echo.url}/echo`, script, echo.child.pid);
    } finally {
      await stopChild(echo.child);
    }
    const results: BenchResult[] = [
      {
        name: "http fastify echo (baseline)",
        opsPerSec: Math.round(echoFigures.requestsPerSec),
        p50Us: Math.round(echoFigures.p50Us),
        p99Us: Math.round(echoFigures.p99Us),
        note: `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s after a ${WARMUP_SECONDS} s warm-up, on loopback, same machine${cpuNote(echoFigures)}`,
      },
    ];
    for (const stage of stages) results.push(serviceRow(stage, await measureService(dir, script, stage), echoFigures));
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Makes users 0–999 returning users: each signs in once and passes the step-up, as after an MFA
 * prompt, so the engine learns their device, network and habits (trusted-outcome learning).
 */
async function teachUsers(engine: Engine): Promise<void> {
  for (let u = 0; u < USERS; u++) {
    const decision = await engine.decide(JSON.parse(loginBody(u)));
    if (decision.controlPath === "step_up" || decision.controlPath === "hold") {
      await engine.recordOutcome(decision.id, "step_up_passed");
    }
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
  // The compiled service from dist/, as `signalbox serve` runs it (benchHttp builds it first).
  const { loadConfig } = (await import(
    new URL("../dist/config/load-config.js", import.meta.url).href
  )) as typeof import("../src/config/load-config.js");
  const { startService } = (await import(
    new URL("../dist/runtime/start-service.js", import.meta.url).href
  )) as typeof import("../src/runtime/start-service.js");
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
  if (TRAFFIC === "returning" && !stage.cannedDecision) await teachUsers(service.runtime.engine);
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

/** `--stages` (all of them) or `--stages=2,4` (those, numbered from 1 in the order of `STAGES`); none: the full service. */
function chosenStages(flag: string | undefined): readonly Stage[] {
  if (flag === undefined) return [FULL_STAGE];
  if (flag === "--stages") return STAGES;
  return flag
    .slice("--stages=".length)
    .split(",")
    .map((n) => {
      const stage = STAGES[Number(n) - 1];
      if (!/^\d+$/.test(n) || stage === undefined)
        throw new Error(`--stages: "${n}" is not a stage number from 1 to ${STAGES.length}`);
      return stage;
    });
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const serveAt = process.argv.indexOf("--serve");
  if (serveAt >= 0) {
    const stage = JSON.parse(process.argv[serveAt + 3] ?? "{}") as Stage;
    await serveChild(process.argv[serveAt + 1] ?? "", process.argv[serveAt + 2] ?? tmpdir(), stage);
  } else {
    const stages = chosenStages(process.argv.find((a) => a === "--stages" || a.startsWith("--stages=")));
    for (const r of await benchHttp(stages)) {
      process.stdout.write(
        `${r.name.padEnd(56)} ${String(r.opsPerSec).padStart(8)} req/s  p50 ${r.p50Us} µs  p99 ${r.p99Us} µs  ${r.note ?? ""}\n`,
      );
    }
  }
}
