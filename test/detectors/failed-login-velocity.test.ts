import { beforeEach, describe, expect, it } from "vitest";
import { failedLoginVelocityDetector as detector } from "../../src/detectors/failed-login-velocity.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";
import { access, failedLogin, HOUR, login, MINUTE, machine, T0 } from "./people-requests.js";

describe("failed_login_velocity", () => {
  let store: MemoryStateStore;
  beforeEach(() => {
    store = new MemoryStateStore();
  });

  it("fires at the fifth failure in the window and counts the current one", async () => {
    for (let i = 0; i < 4; i++) {
      const r = await runStep(detector, store, { request: failedLogin("alice"), now: T0 + i * MINUTE });
      expect(r.finding).toBeUndefined();
      expect(r.observe).toHaveLength(1);
    }
    const fifth = await runStep(detector, store, {
      request: failedLogin("alice"),
      now: T0 + 4 * MINUTE,
      trusted: false,
    });
    expect(fifth.finding).toMatchObject({ code: "failed_login_velocity", severity: "medium", points: 30 });
    expect(fifth.finding?.evidence).toEqual({ failures: 5, threshold: 5, window_seconds: 900, result: "failure" });
  });

  it("flags the successful login that follows, and turns high at high_threshold", async () => {
    for (let i = 0; i < 10; i++) await runStep(detector, store, { request: failedLogin("alice"), now: T0 + i * 1000 });
    const ok = await runStep(detector, store, { request: login("alice"), now: T0 + 20_000 });
    expect(ok.finding).toMatchObject({ severity: "high", points: 50 });
    expect(ok.finding?.message).toBe("successful login after 10 failed logins in the window");
    expect(ok.observe).toHaveLength(0);
  });

  it("counts per identity and forgets failures outside the window", async () => {
    for (let i = 0; i < 4; i++) await runStep(detector, store, { request: failedLogin("alice"), now: T0 + i });
    const bob = await runStep(detector, store, { request: failedLogin("bob"), now: T0 + 10 });
    expect(bob.finding).toBeUndefined();
    const later = await runStep(detector, store, { request: failedLogin("alice"), now: T0 + HOUR });
    expect(later.finding).toBeUndefined();
  });

  it("observes failures whether or not the decision is trusted, and never learns", async () => {
    for (let i = 0; i < 4; i++) {
      const r = await runStep(detector, store, { request: failedLogin("alice"), now: T0 + i, trusted: false });
      expect(r.learn).toHaveLength(0);
    }
    const r = await runStep(detector, store, { request: failedLogin("alice"), now: T0 + 10, trusted: false });
    expect(r.finding?.evidence.failures).toBe(5);
  });

  it("applies only to people's logins and copes with a login without authn", async () => {
    expect((await runStep(detector, store, { request: access("alice"), now: T0 })).applies).toBe(false);
    expect((await runStep(detector, store, { request: machine("svc"), now: T0 })).applies).toBe(false);
    const bare = await runStep(detector, store, {
      request: {
        subject: { type: "user", id: "alice" },
        action: { name: "login" },
        resource: { type: "app", id: "x" },
      },
      now: T0,
    });
    expect(bare.finding).toBeUndefined();
    expect(bare.observe).toHaveLength(0);
  });
});
