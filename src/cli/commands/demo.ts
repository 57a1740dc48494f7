/** `signalbox demo`: the first run — serve on the embedded stores, replay simulated days over HTTP, explain what happened. */

import { join } from "node:path";
import type { Command } from "commander";
import { renderServing, renderSummary } from "../../demo/render.js";
import { runDemo } from "../../demo/run-demo.js";
import { SignalboxError } from "../../errors/signalbox-error.js";
import { closeOnSignals } from "../../runtime/graceful-shutdown.js";
import type { CliIO } from "../io.js";
import { intOption } from "../options.js";
import { progressBar } from "../progress.js";

interface DemoFlags {
  port: number;
  host: string;
  dataDir?: string;
  days: number;
  people: number;
  seed: number;
  concurrency: number;
  serve: boolean;
  json?: boolean;
}

/** A fresh directory per run, under the usual data directory, so a newcomer finds it and runs never mix. */
function freshDataDir(now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return join("signalbox-data", `demo-${stamp}`);
}

export function registerDemoCommand(program: Command, io: CliIO): void {
  program
    .command("demo")
    .description(
      "start the service, replay simulated days of traffic with attacks over HTTP, and explain the decisions",
    )
    .option("--port <port>", "HTTP port (0 picks a free one)", intOption("--port", 0, 65_535), 8700)
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--data-dir <dir>", "where state and audit trail go (default ./signalbox-data/demo-<time>)")
    .option("--days <n>", "simulated days; the last one has the attacks", intOption("--days", 2, 30), 3)
    .option("--people <n>", "simulated people", intOption("--people", 1, 1000), 40)
    .option("--seed <n>", "random seed (same seed, same traffic)", intOption("--seed", 0, 2 ** 32 - 1), 7)
    .option("--concurrency <n>", "requests in flight", intOption("--concurrency", 1, 64), 8)
    .option("--no-serve", "exit after the summary instead of serving")
    .option("--json", "print the summary as JSON")
    .action(async (flags: DemoFlags) => {
      const dataDir = flags.dataDir ?? freshDataDir(new Date());
      io.err(`signalbox demo: ${flags.days} simulated days, ${flags.people} people, state and audit in ${dataDir}`);
      const progress = progressBar("replaying over HTTP");
      const run = await runDemo({
        port: flags.port,
        host: flags.host,
        dataDir,
        days: flags.days,
        people: flags.people,
        seed: flags.seed,
        concurrency: flags.concurrency,
        onProgress: (done, total) => progress.update(done, total),
      })
        .catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
            throw new SignalboxError(
              "CONFIG_INVALID",
              `port ${flags.port} on "${flags.host}" is already in use; pick another with --port (0 picks a free one)`,
            );
          }
          throw err;
        })
        .finally(() => progress.stop());
      const exampleTime = new Date(run.lastEventTime + 60_000).toISOString();
      if (flags.json) {
        io.out(JSON.stringify({ url: run.service.url, dataDir: run.dataDir, sent: run.sent, ...run.summary }, null, 2));
      } else {
        io.out(renderSummary(run.summary));
      }
      if (!flags.serve) {
        await run.service.close();
        return;
      }
      // with --json the summary stays the only thing on standard output
      const say = flags.json ? io.err : io.out;
      say(renderServing(run.service.url, run.dataDir, exampleTime));
      await closeOnSignals(() => run.service.close(), run.service.app.log);
    });
}
