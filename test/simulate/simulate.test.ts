import { describe, expect, it } from "vitest";
import { validateRequest } from "../../src/engine/validate-request.js";
import { ATTACK_SCENARIOS } from "../../src/simulate/event.js";
import { simulate } from "../../src/simulate/simulate.js";
import { DAY } from "../../src/simulate/time.js";

const SMALL = { people: 12, services: 2, pipelines: 2, agents: 2, days: 4, warmupDays: 2, incidentsPerScenario: 1 };

describe("simulate", () => {
  it("is reproducible from its seed and differs across seeds", () => {
    const a = simulate({ ...SMALL, seed: 1 });
    const b = simulate({ ...SMALL, seed: 1 });
    const c = simulate({ ...SMALL, seed: 2 });
    expect(JSON.stringify(a.events)).toBe(JSON.stringify(b.events));
    expect(JSON.stringify(a.events)).not.toBe(JSON.stringify(c.events));
  });

  it("emits valid requests in time order, each carrying its event time", () => {
    const { events } = simulate({ ...SMALL, seed: 3 });
    expect(events.length).toBeGreaterThan(500);
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      if (!e) throw new Error("hole in the event list");
      expect(() => validateRequest(e.request)).not.toThrow();
      expect(Date.parse(e.request.context?.time as string)).toBe(e.at);
      if (i > 0) expect(e.at).toBeGreaterThanOrEqual((events[i - 1] as typeof e).at);
    }
  });

  it("injects every attack scenario after the warm-up, with a damaging request per incident", () => {
    const sim = simulate({ ...SMALL, seed: 4 });
    const warmupEnds = sim.options.start + sim.options.warmupDays * DAY;
    const attacks = sim.events.filter((e) => e.label.actor === "attacker");
    expect(new Set(attacks.map((e) => e.label.scenario))).toEqual(new Set(ATTACK_SCENARIOS));
    for (const e of attacks) expect(e.at).toBeGreaterThanOrEqual(warmupEnds);
    const incidents = new Set(attacks.map((e) => e.label.incident));
    for (const id of incidents) {
      expect(attacks.some((e) => e.label.incident === id && e.label.damaging)).toBe(true);
    }
  });

  it("labels people as human and machine identities as not", () => {
    const { events } = simulate({ ...SMALL, seed: 5 });
    for (const e of events.slice(0, 2000)) {
      expect(e.label.human).toBe(e.request.subject.type === "user");
    }
  });

  it("refuses a warm-up as long as the simulation", () => {
    expect(() => simulate({ ...SMALL, days: 3, warmupDays: 3 })).toThrow(/warm-up/);
  });
});
