import { beforeEach, describe, expect, it } from "vitest";
import { passwordSprayDetector as detector } from "../../src/detectors/password-spray.js";
import type { Enrichment } from "../../src/enrich/enrichment.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";
import { access, failedLogin, HOUR, login, T0 } from "./people-requests.js";

const SPRAYER: Enrichment = { ip: "203.0.113.66" };
const OFFICE: Enrichment = { ip: "198.51.100.1" };

async function spray(store: MemoryStateStore, users: number, from: Enrichment = SPRAYER): Promise<void> {
  for (let i = 0; i < users; i++) {
    await runStep(detector, store, {
      request: failedLogin(`victim${i}`),
      now: T0 + i * 1000,
      enrichment: from,
      trusted: false,
    });
  }
}

describe("password_spray", () => {
  let store: MemoryStateStore;
  beforeEach(() => {
    store = new MemoryStateStore();
  });

  it("fires once an address has failed for min_identities identities", async () => {
    await spray(store, 5);
    const r = await runStep(detector, store, {
      request: failedLogin("victim5"),
      now: T0 + 10_000,
      enrichment: SPRAYER,
    });
    expect(r.finding).toMatchObject({ code: "password_spray", severity: "medium", points: 40 });
    expect(r.finding?.evidence).toEqual({
      ip: "203.0.113.66",
      identities: 5,
      attempts: 6,
      failures: 6,
      failure_ratio: 1,
      min_failure_ratio: 0.7,
      window_seconds: 3600,
      result: "failure",
    });
  });

  it("fires, higher, on the successful login that follows from the spraying address", async () => {
    await spray(store, 8);
    const r = await runStep(detector, store, { request: login("victim3"), now: T0 + 20_000, enrichment: SPRAYER });
    expect(r.finding).toMatchObject({ code: "password_spray", severity: "high", points: 70 });
    expect(r.finding?.evidence).toMatchObject({ result: "success", identities: 8, failures: 8, attempts: 9 });
  });

  it("does not fire below min_identities, for a busy office with mostly successes, or outside the window", async () => {
    await spray(store, 4);
    const few = await runStep(detector, store, {
      request: failedLogin("victim4"),
      now: T0 + 5000,
      enrichment: SPRAYER,
    });
    expect(few.finding).toBeUndefined();

    for (let i = 0; i < 20; i++) {
      const req = i % 5 === 0 ? failedLogin(`staff${i}`) : login(`staff${i}`);
      await runStep(detector, store, { request: req, now: T0 + i * 1000, enrichment: OFFICE });
    }
    const office = await runStep(detector, store, {
      request: failedLogin("staff99"),
      now: T0 + 30_000,
      enrichment: OFFICE,
    });
    expect(office.finding).toBeUndefined();

    const later = await runStep(detector, store, {
      request: failedLogin("victim9"),
      now: T0 + 3 * HOUR,
      enrichment: SPRAYER,
    });
    expect(later.finding).toBeUndefined();
  });

  it("catches the shape of a recorded tenant spray: the success at the seventh attempt is flagged high", async () => {
    // One address; failures for five distinct (partly mistyped) user names, then one success.
    const sequence = ["matt", "adele", "miriam", "matt", "adele-typo", "miriam-typo"];
    const ip = { ip: "2001:db8:820:8::1a:9c" };
    for (const [i, user] of sequence.entries()) {
      const r = await runStep(detector, store, { request: failedLogin(user), now: T0 + i * 100, enrichment: ip });
      expect(r.finding).toBeUndefined();
    }
    const success = await runStep(detector, store, { request: login("henrietta"), now: T0 + 1000, enrichment: ip });
    expect(success.finding).toMatchObject({ severity: "high", points: 70 });
    expect(success.finding?.evidence).toMatchObject({ identities: 5, failures: 6, attempts: 7, result: "success" });
  });

  it("observes every login whether trusted or not, and never learns", async () => {
    const r = await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OFFICE, trusted: false });
    expect(r.learn).toHaveLength(0);
    expect(r.observe.map((u) => u.op)).toEqual(["incr", "distinct"]);
    const f = await runStep(detector, store, { request: failedLogin("alice"), now: T0, enrichment: OFFICE });
    expect(f.observe.map((u) => u.op)).toEqual(["incr", "distinct", "incr"]);
  });

  it("uses context.ip without enrichment and skips requests without an address or not a login", async () => {
    for (let i = 0; i < 5; i++) {
      await runStep(detector, store, { request: failedLogin(`v${i}`, { ip: "192.0.2.9" }), now: T0 + i });
    }
    const r = await runStep(detector, store, { request: failedLogin("v9", { ip: "192.0.2.9" }), now: T0 + 10 });
    expect(r.finding?.evidence.ip).toBe("192.0.2.9");
    expect((await runStep(detector, store, { request: failedLogin("x"), now: T0 })).applies).toBe(false);
    expect(
      (await runStep(detector, store, { request: failedLogin("x", { ip: "::not-an-ip" }), now: T0 })).applies,
    ).toBe(false);
    expect((await runStep(detector, store, { request: access("x"), now: T0, enrichment: SPRAYER })).applies).toBe(
      false,
    );
  });
});
