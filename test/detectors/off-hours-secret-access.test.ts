import { describe, expect, it } from "vitest";
import { offHoursSecretAccessDetector as detector } from "../../src/detectors/off-hours-secret-access.js";
import type { AccessRequest } from "../../src/model/request.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A Monday, 00:00 UTC. */
const MONDAY = Date.parse("2026-11-02T00:00:00Z");

function request(action: string, type = "service"): AccessRequest {
  return { subject: { type, id: "payroll" }, action: { name: action }, resource: { type: "vault", id: "db-creds" } };
}

/** Two weeks of weekday office-hours activity (09:00–16:59 UTC), trusted. */
async function officeHours(): Promise<MemoryStateStore> {
  const store = new MemoryStateStore();
  for (let week = 0; week < 2; week++) {
    for (let day = 0; day < 5; day++) {
      for (let hour = 9; hour < 17; hour++) {
        const now = MONDAY + week * 7 * DAY + day * DAY + hour * HOUR;
        const r = await runStep(detector, store, { request: request(hour === 9 ? "secrets.read" : "read"), now });
        expect(r.finding).toBeUndefined();
      }
    }
  }
  return store;
}

const WEEK3 = MONDAY + 14 * DAY;

describe("off_hours_secret_access", () => {
  it("flags a secret read at an hour the identity is never active", async () => {
    const store = await officeHours();
    const saturday3am = WEEK3 + 5 * DAY + 3 * HOUR;
    const r = await runStep(detector, store, { request: request("secrets.read"), now: saturday3am });
    expect(r.finding?.code).toBe("off_hours_secret_access");
    expect(r.finding?.severity).toBe("high");
    expect(r.finding?.points).toBe(45);
    expect(r.finding?.evidence).toEqual({
      action: "secrets.read",
      hour_of_week: 5 * 24 + 3,
      hour_label: "Sat 03:00",
      timezone: "UTC",
      tolerance_hours: 1,
      known_hours: 40,
      observations: 80,
    });
  });

  it("is silent inside learned hours, within the tolerance, and for non-secret actions", async () => {
    const store = await officeHours();
    expect(
      (await runStep(detector, store, { request: request("secrets.read"), now: WEEK3 + DAY + 10 * HOUR })).finding,
    ).toBeUndefined();
    const eight = await runStep(detector, store, {
      request: request("secrets.read"),
      now: WEEK3 + 8 * HOUR,
      trusted: false,
    });
    expect(eight.finding).toBeUndefined();
    expect(
      (await runStep(detector, store, { request: request("secrets.read"), now: WEEK3 + 7 * HOUR })).finding?.code,
    ).toBe("off_hours_secret_access");
    expect(
      (await runStep(detector, store, { request: request("read"), now: WEEK3 + 5 * DAY + 3 * HOUR })).finding,
    ).toBeUndefined();
  });

  it("cold start: silent until min_observations and min_history_days", async () => {
    const store = new MemoryStateStore();
    for (let i = 0; i < 40; i++) {
      const r = await runStep(detector, store, {
        request: request("secrets.write"),
        now: MONDAY + 10 * HOUR + i * 60_000,
      });
      expect(r.finding).toBeUndefined();
    }
    // 40 observations, but only one day of history.
    const early = await runStep(detector, store, {
      request: request("secrets.read"),
      now: MONDAY + DAY + 2 * HOUR,
      trusted: false,
    });
    expect(early.finding).toBeUndefined();
    expect(
      (await runStep(detector, store, { request: request("secrets.read"), now: MONDAY + 8 * DAY + 2 * HOUR })).finding
        ?.code,
    ).toBe("off_hours_secret_access");
  });

  it("does not learn an hour from an untrusted request", async () => {
    const store = await officeHours();
    const sunday = WEEK3 + 6 * DAY + 2 * HOUR;
    await runStep(detector, store, { request: request("secrets.read"), now: sunday, trusted: false });
    const r = await runStep(detector, store, { request: request("secrets.read"), now: sunday + 60_000 });
    expect(r.finding?.code).toBe("off_hours_secret_access");
    const learned = await runStep(detector, store, { request: request("secrets.read"), now: sunday + 120_000 });
    expect(learned.finding).toBeUndefined();
  });

  it("reads the hour of week in a configured time zone", async () => {
    const store = await officeHours();
    // 09:00 UTC Monday is 18:00 in Tokyo: in that zone the learned hours sit elsewhere in the week.
    const params = { timezone: "Asia/Tokyo" };
    const r = await runStep(detector, store, { request: request("secrets.read"), now: WEEK3 + 9 * HOUR, params });
    expect(r.finding?.evidence).toMatchObject({ hour_of_week: 18, timezone: "Asia/Tokyo" });
    expect(
      (await runStep(detector, store, { request: request("secrets.read"), now: WEEK3 + 9 * HOUR })).finding,
    ).toBeUndefined();
  });

  it("does not apply to people or logins, and a bad time zone fails as a detector error", async () => {
    const store = await officeHours();
    expect((await runStep(detector, store, { request: request("secrets.read", "user"), now: WEEK3 })).applies).toBe(
      false,
    );
    expect((await runStep(detector, store, { request: request("login"), now: WEEK3 })).applies).toBe(false);
    const bad = await runStep(detector, store, {
      request: request("secrets.read"),
      now: WEEK3,
      params: { timezone: "Mars/Olympus" },
    });
    expect(bad.finding?.code).toBe("detector_error");
    expect(bad.learn).toEqual([]);
  });
});
