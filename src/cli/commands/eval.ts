/** `signalbox eval`: replays simulated labelled traffic through the engine and reports catch rate and friction. */

import type { Command } from "commander";
import { createEngine } from "../../engine/create-engine.js";
import { createDatabaseEnricher } from "../../enrich/database-enricher.js";
import { PEP_ONLY_ENRICHER } from "../../enrich/enrichment.js";
import { evaluate } from "../../evaluate/evaluate.js";
import { formatReport } from "../../evaluate/report.js";
import { loadPolicy } from "../../policy/load.js";
import { simulate } from "../../simulate/simulate.js";
import { DAY } from "../../simulate/time.js";
import { MemoryStateStore } from "../../state/memory.js";
import type { CliIO } from "../io.js";
import { progressBar } from "../progress.js";
import { type SimulationFlags, simulationFlags, simulationOptions } from "./simulate.js";

interface EvalFlags extends SimulationFlags {
  policy?: string;
  json?: boolean;
  enrich: boolean;
}

export function registerEvalCommand(program: Command, io: CliIO): void {
  simulationFlags(
    program
      .command("eval")
      .description(
        "replay simulated traffic with attacks through a policy; report catch rate, friction and confusion matrices",
      ),
  )
    .option("--policy <file>", "policy to evaluate (default: the shipped default policy)")
    .option("--json", "print the report as JSON")
    .option("--no-enrich", "skip the IP and user-agent databases (PEP-supplied facts only)")
    .action(async (flags: EvalFlags) => {
      const sim = simulate(simulationOptions(flags));
      const policy = await loadPolicy(flags.policy);
      const enricher = flags.enrich ? await createDatabaseEnricher({ watch: false }) : PEP_ONLY_ENRICHER;
      const engine = createEngine({ policy, state: new MemoryStateStore(), eventTime: "request", enricher });
      const bar = progressBar("eval");
      const report = await evaluate(engine, sim.events, {
        warmupEnds: sim.options.start + sim.options.warmupDays * DAY,
        onProgress: (done, total) => bar.update(done, total),
      });
      bar.stop();
      await engine.close();
      if (flags.json)
        io.out(
          JSON.stringify(
            { simulation: { ...sim.options }, policy: { id: policy.id, revision: policy.revision }, report },
            null,
            2,
          ),
        );
      else {
        io.out(
          `policy ${policy.id} revision ${policy.revision}; seed ${sim.options.seed}, ${sim.options.days} days (${sim.options.warmupDays} warm-up)`,
        );
        io.out(formatReport(report));
      }
    });
}
