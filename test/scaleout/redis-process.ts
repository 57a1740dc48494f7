/** A private `redis-server` on a free loopback port that a test may stop, restart, freeze and thaw. */

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { redisAnswers } from "../support/redis-probe.js";

/** What every test server runs with: no persistence (a restart comes back empty), in the foreground. */
export const EPHEMERAL_ARGS: readonly string[] = ["--save", "", "--appendonly", "no", "--daemonize", "no"];

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a `redis-server` binary can be started here. */
export async function redisServerInstalled(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn("redis-server", ["--version"], { stdio: "ignore" });
    child.once("error", () => resolve(false));
    child.once("exit", (code) => resolve(code === 0));
  });
}

/**
 * Whether a suite that starts `redis-server` processes of its own can run: says loudly why not
 * (`suite` names it in the warning), and refuses to skip in CI.
 */
export async function redisServerFor(suite: string): Promise<boolean> {
  if (await redisServerInstalled()) return true;
  if (process.env.CI === "true") throw new Error("redis-server is not installed and CI=true: refusing to skip");
  console.warn(`\n*** SKIPPING ${suite}: no redis-server binary to start ***\n`);
  return false;
}

export class RedisProcess {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
  ) {}

  /**
   * Starts a server with no persistence, so a restart comes back empty like a lost node would.
   * `extraArgs` are added to its command line (e.g. `--cluster-enabled yes`).
   */
  static async start(extraArgs: readonly string[] = []): Promise<RedisProcess> {
    const server = new RedisProcess(await freePort(), extraArgs);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts (again) on the same port and resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.running) return;
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", ...EPHEMERAL_ARGS, ...this.extraArgs],
      { stdio: "ignore" },
    );
    this.child = child;
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${this.port} exited with ${child.exitCode}`);
      if (await redisAnswers(`redis://127.0.0.1:${this.port}`)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING`);
  }

  /** Stops the server (SIGTERM, SIGKILL if it lingers) and resolves once the process is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    // a frozen server cannot act on SIGTERM
    child.kill("SIGCONT");
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  }

  /** Freezes the process: connections stay open but nothing is answered, which is what a slow Redis looks like. */
  freeze(): void {
    this.child?.kill("SIGSTOP");
  }

  thaw(): void {
    this.child?.kill("SIGCONT");
  }
}
