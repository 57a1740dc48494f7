/** Generates a labelled, time-ordered stream of traffic from a seed: everyday use plus injected attacks. */

import { ATTACKS } from "./attacks.js";
import { ATTACK_SCENARIOS, type AttackScenario, type SimEvent } from "./event.js";
import { legitimateTraffic } from "./legitimate.js";
import { makePopulation, type Population } from "./population.js";
import { Random } from "./random.js";
import { DAY } from "./time.js";

export interface SimulationOptions {
  seed: number;
  /** Simulated days in all, warm-up included. */
  days: number;
  /** Days before the first attack; friction is reported after them. */
  warmupDays: number;
  people: number;
  services: number;
  pipelines: number;
  agents: number;
  /** Incidents injected per attack scenario. */
  incidentsPerScenario: number;
  scenarios: readonly AttackScenario[];
  /** First day, UTC midnight, epoch ms. */
  start: number;
}

export const DEFAULT_SIMULATION: SimulationOptions = {
  seed: 7,
  days: 28,
  warmupDays: 14,
  people: 150,
  services: 8,
  pipelines: 6,
  agents: 6,
  incidentsPerScenario: 10,
  scenarios: ATTACK_SCENARIOS,
  start: Date.parse("2026-09-07T00:00:00Z"),
};

export interface Simulation {
  readonly options: SimulationOptions;
  readonly population: Population;
  readonly events: SimEvent[];
}

export function simulate(partial: Partial<SimulationOptions> = {}): Simulation {
  const options = { ...DEFAULT_SIMULATION, ...partial };
  if (options.warmupDays >= options.days) throw new Error("warm-up must be shorter than the simulation");
  const rng = new Random(options.seed);
  const population = makePopulation(rng.fork("population"), options);
  const events = legitimateTraffic(rng.fork("legitimate"), population, options.start, options.days);
  const attackRng = rng.fork("attacks");
  for (const scenario of options.scenarios) {
    for (let n = 0; n < options.incidentsPerScenario; n++) {
      const r = attackRng.fork(`${scenario}-${n}`);
      const day = options.start + r.int(options.warmupDays, options.days - 1) * DAY;
      const needsMachines =
        (scenario === "rogue_ci_runner" && population.pipelines.length === 0) ||
        (scenario === "agent_out_of_scope" && population.agents.length === 0) ||
        (["service_token_new_segment", "token_replay_across_workloads", "exfiltration_rate_spike"].includes(scenario) &&
          population.services.length === 0);
      if (needsMachines || population.people.length === 0) continue;
      events.push(...ATTACKS[scenario](r, population, day, `${scenario}-${n}`));
    }
  }
  // Stable sort keeps each actor's own order for equal timestamps.
  events.sort((a, b) => a.at - b.at);
  return { options, population, events };
}
