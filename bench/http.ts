/**
 * HTTP throughput of the decision service against a bare Fastify echo server on the same machine,
 * both driven by wrk (`wrk -t1 -c50 -d10s --latency`) with a realistic AuthZEN login body.
 * Run alone with `npx tsx bench/http.ts`; needs `wrk` on the PATH (Debian: `apt-get install wrk`).
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
  const res = spawnSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", "-s", script, url], {
    encoding: "utf8",
    timeout: (SECONDS + 30) * 1000,
  });
  if (res.error) throw new Error(`cannot run wrk (${res.error.message}); install it with apt-get install -y wrk`);
  if (res.status !== 0) throw new Error(`wrk failed: ${res.stderr}`);
  return parseWrk(res.stdout);
}

/** Starts this file as a child in server mode and resolves with the URL it prints. */
function startChild(kind: "signalbox" | "echo", dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", THIS_FILE, "--serve", kind, dataDir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
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

export async function benchHttp(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "signalbox-bench-http-"));
  const script = join(dir, "authzen-login.lua");
  writeFileSync(script, WRK_SCRIPT);
  const results: BenchResult[] = [];
  try {
    const echo = await startChild("echo", dir);
    let echoFigures: WrkFigures;
    try {
      echoFigures = runWrk(`${echo.url}/echo`, script);
    } finally {
      await stopChild(echo.child);
    }
    const service = await startChild("signalbox", dir);
    let sbFigures: WrkFigures;
    try {
      sbFigures = runWrk(`${service.url}/access/v1/evaluation`, script);
    } finally {
      await stopChild(service.child);
    }
    const ratio = sbFigures.requestsPerSec / echoFigures.requestsPerSec;
    const load = `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s on loopback, same machine`;
    results.push({
      name: "http fastify echo (baseline)",
      opsPerSec: Math.round(echoFigures.requestsPerSec),
      p50Us: Math.round(echoFigures.p50Us),
      p99Us: Math.round(echoFigures.p99Us),
      note: load,
    });
    results.push({
      name: "http signalbox POST /access/v1/evaluation",
      opsPerSec: Math.round(sbFigures.requestsPerSec),
      p50Us: Math.round(sbFigures.p50Us),
      p99Us: Math.round(sbFigures.p99Us),
      note: `${(ratio * 100).toFixed(0)}% of the echo baseline; default policy, SQLite state and audit, database enrichment, log level warn; non-2xx ${sbFigures.non2xx}`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** Child mode: one server, printing `READY <url>`, stopping on SIGTERM. */
async function serveChild(kind: string, dataDir: string): Promise<void> {
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
  };
  const service = await startService(config, { watch: false });
  process.stdout.write(`READY ${service.url}\n`);
  process.once("SIGTERM", () => void service.close().then(() => process.exit(0)));
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const serveAt = process.argv.indexOf("--serve");
  if (serveAt >= 0) {
    await serveChild(process.argv[serveAt + 1] ?? "", process.argv[serveAt + 2] ?? tmpdir());
  } else {
    for (const r of await benchHttp()) {
      process.stdout.write(
        `${r.name.padEnd(46)} ${String(r.opsPerSec).padStart(8)} req/s  p50 ${r.p50Us} µs  p99 ${r.p99Us} µs  ${r.note ?? ""}\n`,
      );
    }
  }
}
