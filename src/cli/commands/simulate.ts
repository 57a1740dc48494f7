/** `signalbox simulate`: writes labelled simulated traffic as JSON lines. */

import { createWriteStream } from "node:fs";
import type { Command } from "commander";
import { DEFAULT_SIMULATION, type SimulationOptions, simulate } from "../../simulate/simulate.js";
import type { CliIO } from "../io.js";
import { dateOption, intOption } from "../options.js";

export function simulationFlags(cmd: Command): Command {
  return cmd
    .option(
      "--seed <n>",
      "random seed (same seed, same traffic)",
      intOption("--seed", 0, 2 ** 32 - 1),
      DEFAULT_SIMULATION.seed,
    )
    .option("--days <n>", "days simulated, warm-up included", intOption("--days", 2, 366), DEFAULT_SIMULATION.days)
    .option(
      "--warmup-days <n>",
      "days before the first attack",
      intOption("--warmup-days", 1, 365),
      DEFAULT_SIMULATION.warmupDays,
    )
    .option("--people <n>", "people", intOption("--people", 1, 100_000), DEFAULT_SIMULATION.people)
    .option("--services <n>", "service accounts", intOption("--services", 0, 10_000), DEFAULT_SIMULATION.services)
    .option("--pipelines <n>", "CI pipelines", intOption("--pipelines", 0, 10_000), DEFAULT_SIMULATION.pipelines)
    .option("--agents <n>", "AI agents", intOption("--agents", 0, 10_000), DEFAULT_SIMULATION.agents)
    .option(
      "--incidents <n>",
      "attack incidents per scenario",
      intOption("--incidents", 0, 10_000),
      DEFAULT_SIMULATION.incidentsPerScenario,
    )
    .option("--start <date>", "first simulated day (UTC)", dateOption("--start"), DEFAULT_SIMULATION.start);
}

export interface SimulationFlags {
  seed: number;
  days: number;
  warmupDays: number;
  people: number;
  services: number;
  pipelines: number;
  agents: number;
  incidents: number;
  start: number;
}

export function simulationOptions(f: SimulationFlags): Partial<SimulationOptions> {
  return {
    seed: f.seed,
    days: f.days,
    warmupDays: Math.min(f.warmupDays, f.days - 1),
    people: f.people,
    services: f.services,
    pipelines: f.pipelines,
    agents: f.agents,
    incidentsPerScenario: f.incidents,
    start: f.start,
  };
}

export function registerSimulateCommand(program: Command, io: CliIO): void {
  simulationFlags(
    program
      .command("simulate")
      .description("generate labelled traffic (people, services, CI, agents, attacks) as JSON lines"),
  )
    .option("--out <file>", "write to this file instead of standard output")
    .action(async (flags: SimulationFlags & { out?: string }) => {
      const sim = simulate(simulationOptions(flags));
      const sink = flags.out ? createWriteStream(flags.out) : undefined;
      for (const e of sim.events) {
        const line = `${JSON.stringify({ at: new Date(e.at).toISOString(), label: e.label, request: e.request })}\n`;
        if (sink) {
          if (!sink.write(line)) await new Promise<void>((r) => sink.once("drain", () => r()));
        } else {
          io.out(line);
        }
      }
      if (sink) {
        await new Promise<void>((resolve, reject) => sink.end((err?: Error | null) => (err ? reject(err) : resolve())));
        io.err(`wrote ${sim.events.length} requests to ${flags.out}`);
      }
    });
}
