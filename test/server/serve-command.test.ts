import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./support.js";

/** Runs `signalbox serve` (the command as registered) in a child process. */
function serveChild(args: string[]) {
  const serve = pathToFileURL(join(REPO_ROOT, "src/cli/commands/serve.ts")).href;
  const io = pathToFileURL(join(REPO_ROOT, "src/cli/io.ts")).href;
  const code = `
    import { Command } from "commander";
    import { registerServeCommand } from ${JSON.stringify(serve)};
    import { PROCESS_IO } from ${JSON.stringify(io)};
    const program = new Command().exitOverride();
    registerServeCommand(program, PROCESS_IO);
    await program.parseAsync(process.argv.slice(1), { from: "user" });
    process.stdout.write("serve returned\\n");
  `;
  return spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code, "serve", ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, SIGNALBOX_LOG_LEVEL: "warn" },
  });
}

describe("signalbox serve", () => {
  it("prints the listening URL, answers, and exits 0 on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "signalbox-serve-"));
    const child = serveChild(["--port", "0", "--data-dir", dir, "--enrichment", "pep"]);
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    let err = "";
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /signalbox listening on (http:\/\/\S+)/.exec(out);
          if (m?.[1]) {
            clearInterval(timer);
            resolve(m[1]);
          }
        }, 50);
        void exited.then((code) => {
          clearInterval(timer);
          reject(new Error(`serve exited with ${code}: ${err}`));
        });
      });
      expect(out).toContain("no API keys configured");
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      const answered = await fetch(`${url}/access/v1/evaluation`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          subject: { type: "user", id: "alice@example.com" },
          action: { name: "login" },
          resource: { type: "application", id: "portal" },
          context: { ip: "203.0.113.7", authn: { result: "success", method: "password" } },
        }),
      });
      child.kill("SIGTERM");
      expect(answered.status).toBe(200);
      expect(await exited).toBe(0);
      expect(out).toContain("serve returned");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exits with CONFIG_INVALID naming the flag for a bad value", async () => {
    const child = serveChild(["--port", "eighty"]);
    let err = "";
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).not.toBe(0);
    expect(err).toContain('--port: "eighty" is not an integer between 0 and 65535');
  });
});
