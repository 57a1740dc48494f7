/** A `signalbox serve` child process on a loopback port, and the HTTP calls the scale-out tests make to it. */

import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ENTRY = join(REPO_ROOT, "test", "scaleout", "cli-entry.ts");

/** The members of a native decision (`POST /v1/decide`) these tests read. */
export interface NativeDecision {
  control_path: string;
  segment: string;
  decision_id: string;
  findings: { code: string; severity: string; evidence: Record<string, unknown>; error?: { code: string } }[];
  matched: { id: string; kind: string; path: string }[];
  reasons: { code: string }[];
  policy: { id: string; revision: string };
  errors: { code: string; source: string }[];
}

export class DecisionNode {
  private output = "";

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly url: string,
    readonly exited: Promise<number | null>,
  ) {}

  /**
   * Spawns `signalbox serve --port 0 …args` (through tsx, so it runs the current sources whether or
   * not `dist/` was built) and resolves once it prints the address it listens on.
   */
  static async start(
    name: string,
    args: readonly string[],
    env: Readonly<Record<string, string>> = {},
  ): Promise<DecisionNode> {
    const child = spawn(process.execPath, ["--import", "tsx", ENTRY, "serve", "--port", "0", ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, SIGNALBOX_LOG_LEVEL: "warn", ...env },
    });
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /signalbox listening on (http:\/\/\S+)/.exec(output);
        if (m?.[1]) {
          clearInterval(timer);
          resolve(m[1]);
        }
      }, 25);
      void exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`node ${name} exited with ${code} before listening: ${output}`));
      });
    });
    const node = new DecisionNode(name, child, url, exited);
    node.output = output;
    child.stdout?.on("data", (c: Buffer) => {
      node.output += c.toString();
    });
    child.stderr?.on("data", (c: Buffer) => {
      node.output += c.toString();
    });
    return node;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Everything the node printed, for failure messages. */
  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async decide(request: unknown): Promise<NativeDecision> {
    const res = await fetch(`${this.url}/v1/decide`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
    });
    const body = (await res.json()) as NativeDecision;
    if (res.status !== 200) throw new Error(`node ${this.name} answered ${res.status}: ${JSON.stringify(body)}`);
    return body;
  }

  async get(path: string): Promise<{ status: number; text: string }> {
    const res = await fetch(`${this.url}${path}`);
    return { status: res.status, text: await res.text() };
  }

  /** The value of one Prometheus series (name with labels exactly as exposed), 0 when absent. */
  async metric(series: string): Promise<number> {
    const { text } = await this.get("/metrics");
    const line = text.split("\n").find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if the node has not exited after a grace period; resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Runs one `signalbox` command (e.g. `audit verify …`) to completion: its exit code and output. */
export async function runCli(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", ENTRY, ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** Polls `check` until it returns a value (not undefined), up to `attempts` times `everyMs` apart. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  attempts = 100,
  everyMs = 100,
): Promise<T | undefined> {
  for (let i = 0; i < attempts; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return undefined;
}
