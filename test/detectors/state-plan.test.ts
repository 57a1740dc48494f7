/** The merged state query of a decision: each key once, the largest window, distinct members if any detector asks. */

import { describe, expect, it } from "vitest";
import { mergeCounter, StatePlan } from "../../src/detectors/state-plan.js";

describe("StatePlan", () => {
  it("asks for a counter once, with the largest window and distinct members if either asked", () => {
    const plan = new StatePlan();
    plan.counter({ key: "ip:1:users", windowMs: 60_000 });
    plan.counter({ key: "ip:1:users", windowMs: 30_000, distinct: true });
    plan.counter({ key: "user:a:fails", windowMs: 600_000 });
    plan.counter({ key: "user:a:fails", windowMs: 900_000 });
    plan.profile("user:a");
    plan.profile("user:a");
    expect(plan.query()).toEqual({
      profiles: ["user:a"],
      counters: [
        { key: "ip:1:users", windowMs: 60_000, distinct: true },
        { key: "user:a:fails", windowMs: 900_000 },
      ],
      claims: [],
    });
  });

  it("keeps distinct members asked for when a later ask has a larger window but does not ask", () => {
    const plan = new StatePlan();
    plan.counter({ key: "ip:1:users", windowMs: 60_000, distinct: true });
    plan.counter({ key: "ip:1:users", windowMs: 120_000 });
    expect(plan.query().counters).toEqual([{ key: "ip:1:users", windowMs: 120_000, distinct: true }]);
  });

  it("merges two asks of one counter the same way wherever they meet (e.g. the active and the shadow policy)", () => {
    const wide = { key: "ip:1:users", windowMs: 120_000 };
    const asked = { key: "ip:1:users", windowMs: 60_000, distinct: true };
    expect(mergeCounter(wide, asked)).toEqual({ key: "ip:1:users", windowMs: 120_000, distinct: true });
    expect(mergeCounter(asked, wide)).toEqual({ key: "ip:1:users", windowMs: 120_000, distinct: true });
    expect(mergeCounter(wide, { key: "ip:1:users", windowMs: 30_000 })).toBe(wide);
  });
});
