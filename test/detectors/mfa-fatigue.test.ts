import { beforeEach, describe, expect, it } from "vitest";
import { mfaFatigueDetector as detector } from "../../src/detectors/mfa-fatigue.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";
import { HOUR, login, MINUTE, T0 } from "./people-requests.js";

function mfa(user: string, mfaResult: "approved" | "denied" | "timeout") {
  return login(user, { authn: { result: "success", method: "mfa", mfa_result: mfaResult } });
}

describe("mfa_fatigue", () => {
  let store: MemoryStateStore;
  beforeEach(() => {
    store = new MemoryStateStore();
  });

  it("fires at the third denied or unanswered prompt in the window", async () => {
    await runStep(detector, store, { request: mfa("alice", "denied"), now: T0 });
    const second = await runStep(detector, store, { request: mfa("alice", "timeout"), now: T0 + MINUTE });
    expect(second.finding).toBeUndefined();
    const third = await runStep(detector, store, { request: mfa("alice", "denied"), now: T0 + 2 * MINUTE });
    expect(third.finding).toMatchObject({ code: "mfa_fatigue", severity: "medium", points: 35 });
    expect(third.finding?.evidence).toEqual({ rejections: 3, threshold: 3, window_seconds: 600, mfa_result: "denied" });
  });

  it("flags the approval after a burst of rejections as high", async () => {
    for (let i = 0; i < 3; i++)
      await runStep(detector, store, { request: mfa("alice", "denied"), now: T0 + i * MINUTE });
    const ok = await runStep(detector, store, { request: mfa("alice", "approved"), now: T0 + 4 * MINUTE });
    expect(ok.finding).toMatchObject({ severity: "high", points: 60 });
    expect(ok.finding?.message).toBe("mfa approved after 3 denied or unanswered prompts");
    expect(ok.observe).toHaveLength(0);
  });

  it("does not fire for an approval after one mistake, per identity, or outside the window", async () => {
    await runStep(detector, store, { request: mfa("alice", "denied"), now: T0 });
    expect(
      (await runStep(detector, store, { request: mfa("alice", "approved"), now: T0 + 1 })).finding,
    ).toBeUndefined();
    await runStep(detector, store, { request: mfa("bob", "denied"), now: T0 });
    await runStep(detector, store, { request: mfa("bob", "denied"), now: T0 + 1 });
    expect((await runStep(detector, store, { request: mfa("carol", "denied"), now: T0 + 2 })).finding).toBeUndefined();
    expect((await runStep(detector, store, { request: mfa("bob", "denied"), now: T0 + HOUR })).finding).toBeUndefined();
  });

  it("observes rejections even when untrusted and never learns", async () => {
    for (let i = 0; i < 2; i++) {
      const r = await runStep(detector, store, { request: mfa("alice", "timeout"), now: T0 + i, trusted: false });
      expect(r.learn).toHaveLength(0);
      expect(r.observe).toHaveLength(1);
    }
    expect(
      (await runStep(detector, store, { request: mfa("alice", "timeout"), now: T0 + 5 })).finding?.evidence.rejections,
    ).toBe(3);
  });

  it("applies only when an mfa result is present", async () => {
    expect((await runStep(detector, store, { request: login("alice"), now: T0 })).applies).toBe(false);
  });
});
