/** The demo run: start the service on the embedded stores, replay simulated days over HTTP, summarise. */

import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { DEFAULT_CONFIG, type ServeConfig } from "../config/serve-config.js";
import { type RunningService, startService } from "../runtime/start-service.js";
import { simulate } from "../simulate/simulate.js";
import { DAY } from "../simulate/time.js";
import { replayOverHttp } from "./replay.js";
import { type DemoSummary, summarize } from "./summary.js";

export interface DemoOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Simulated days; the last one has the attacks, the ones before it are warm-up. */
  readonly days: number;
  readonly people: number;
  readonly seed: number;
  /** Requests in flight at most. */
  readonly concurrency: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface DemoRun {
  readonly service: RunningService;
  readonly dataDir: string;
  readonly summary: DemoSummary;
  /** Requests the simulator generated (all of them were sent). */
  readonly sent: number;
  /** Event time of the last replayed request, epoch ms. */
  readonly lastEventTime: number;
}

/** A small machine population next to the people, so every segment of the default policy sees traffic. */
const MACHINES = { services: 3, pipelines: 2, agents: 2 } as const;

export function demoConfig(options: Pick<DemoOptions, "port" | "host" | "dataDir">): ServeConfig {
  return {
    ...DEFAULT_CONFIG,
    port: options.port,
    host: options.host,
    dataDir: options.dataDir,
    // simulated traffic carries its own timestamps: profiles learn on the simulated clock
    eventTime: "request",
    logLevel: "warn",
  };
}

/** Resolves once the traffic is replayed; the service keeps running until the caller closes it. */
export async function runDemo(options: DemoOptions): Promise<DemoRun> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const sim = simulate({
    seed: options.seed,
    days: options.days,
    warmupDays: options.days - 1,
    people: options.people,
    ...MACHINES,
    incidentsPerScenario: 1,
  });
  const service = await startService(demoConfig({ ...options, dataDir }), { watch: false });
  try {
    const replayed = await replayOverHttp(service.url, sim.events, {
      concurrency: options.concurrency,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const attackDayStarts = sim.options.start + sim.options.warmupDays * DAY;
    return {
      service,
      dataDir,
      summary: summarize(replayed, attackDayStarts),
      sent: sim.events.length,
      lastEventTime: sim.events.at(-1)?.at ?? sim.options.start,
    };
  } catch (err) {
    await service.close();
    throw err;
  }
}
