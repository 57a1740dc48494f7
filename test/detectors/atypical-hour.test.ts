import { beforeEach, describe, expect, it } from "vitest";
import { atypicalHourDetector as detector } from "../../src/detectors/atypical-hour.js";
import { hourOfWeek } from "../../src/detectors/hour-of-week.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";
import { access, DAY, failedLogin, HOUR, login, T0 } from "./people-requests.js";

/** Teaches `count` trusted requests on weekdays between 09:00 and 11:00 UTC. */
async function officeHours(store: MemoryStateStore, user: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const day = i % 5; // Monday–Friday
    const hour = i % 3; // 09, 10, 11
    await runStep(detector, store, { request: access(user), now: T0 + day * DAY + hour * HOUR });
  }
}

describe("hourOfWeek", () => {
  it("counts from Monday 00:00 UTC and honours a time zone", () => {
    expect(hourOfWeek(T0)).toBe(9); // Monday 09:00 UTC
    expect(hourOfWeek(T0 + 6 * DAY + 14 * HOUR)).toBe(167); // Sunday 23:00
    expect(hourOfWeek(T0, "Asia/Tokyo")).toBe(18); // Monday 18:00 JST
    expect(hourOfWeek(T0 - 10 * HOUR, "UTC")).toBe(167); // Sunday 23:00
    expect(() => hourOfWeek(T0, "Mars/Olympus")).toThrow('unknown time zone "Mars/Olympus"');
  });
});

describe("atypical_hour", () => {
  let store: MemoryStateStore;
  beforeEach(() => {
    store = new MemoryStateStore();
  });

  it("stays silent until min_observations", async () => {
    await officeHours(store, "alice", 19);
    const r = await runStep(detector, store, { request: access("alice"), now: T0 + 5 * DAY - 6 * HOUR });
    expect(r.finding).toBeUndefined();
  });

  it("flags Saturday 03:00 for an office-hours person, with the histogram share as evidence", async () => {
    await officeHours(store, "alice", 30);
    const saturday3am = T0 + 5 * DAY - 6 * HOUR;
    const r = await runStep(detector, store, { request: access("alice"), now: saturday3am, trusted: false });
    expect(r.finding).toMatchObject({ code: "atypical_hour", severity: "low", points: 10 });
    expect(r.finding?.evidence).toMatchObject({
      hour_of_week: 5 * 24 + 3,
      day: "saturday",
      hour: 3,
      share: 0,
      observations: 30,
      timezone: "UTC",
    });
  });

  it("does not flag a habitual hour or its neighbour", async () => {
    await officeHours(store, "alice", 30);
    const tuesday10 = await runStep(detector, store, { request: access("alice"), now: T0 + 8 * DAY + HOUR });
    expect(tuesday10.finding).toBeUndefined();
    const monday08 = await runStep(detector, store, { request: access("alice"), now: T0 + 7 * DAY - HOUR });
    expect(monday08.finding).toBeUndefined();
  });

  it("does not learn from untrusted requests or failed logins", async () => {
    await officeHours(store, "alice", 30);
    const night = T0 + 5 * DAY - 6 * HOUR;
    for (let i = 0; i < 5; i++)
      await runStep(detector, store, { request: access("alice"), now: night + i, trusted: false });
    const failed = await runStep(detector, store, { request: failedLogin("alice"), now: night + 10 });
    expect(failed.learn).toHaveLength(0);
    const r = await runStep(detector, store, { request: login("alice"), now: night + 20 });
    expect(r.finding?.code).toBe("atypical_hour");
  });

  it("reads hours in the configured time zone", async () => {
    await officeHours(store, "alice", 30);
    // 09:00 UTC habits are 18:00 in Tokyo; measured in Tokyo time they were learned as UTC hours,
    // so a Tokyo-time reading of a habitual instant lands on an unseen hour.
    const r = await runStep(detector, store, {
      request: access("alice"),
      now: T0 + 7 * DAY,
      params: { timezone: "Asia/Tokyo" },
    });
    expect(r.finding?.evidence).toMatchObject({ timezone: "Asia/Tokyo", hour: 18 });
  });
});
