import { beforeEach, describe, expect, it } from "vitest";
import { newDeviceDetector as detector } from "../../src/detectors/new-device.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";
import { access, DAY, failedLogin, login, OSLO, T0 } from "./people-requests.js";

describe("new_device", () => {
  let store: MemoryStateStore;
  beforeEach(() => {
    store = new MemoryStateStore();
  });

  it("gives a weak first_seen_identity finding for a never-seen identity, then learns the device", async () => {
    const first = await runStep(detector, store, { request: login("alice", { device: { id: "laptop-1" } }), now: T0 });
    expect(first.finding?.code).toBe("first_seen_identity");
    expect(first.finding?.severity).toBe("info");
    expect(first.finding?.points).toBe(5);
    const again = await runStep(detector, store, {
      request: access("alice", { device: { id: "laptop-1" } }),
      now: T0 + 1000,
    });
    expect(again.finding).toBeUndefined();
  });

  it("says first_seen_device when the identity is known but no device is on record yet", async () => {
    await store.write([{ op: "see", profile: "user:alice", field: "countries", value: "NO", at: T0, cap: 30 }], T0);
    const r = await runStep(detector, store, { request: login("alice", { device: { id: "laptop-1" } }), now: T0 + 1 });
    expect(r.finding).toMatchObject({ code: "first_seen_device", severity: "info", points: 5 });
  });

  it("flags a new device once a device is known, more strongly when unmanaged", async () => {
    await runStep(detector, store, { request: login("alice", { device: { id: "laptop-1" } }), now: T0 });
    const managed = await runStep(detector, store, {
      request: login("alice", { device: { id: "laptop-2", managed: true } }),
      now: T0 + DAY,
      trusted: false,
    });
    expect(managed.finding).toMatchObject({ code: "new_device", severity: "low", points: 20 });
    expect(managed.finding?.evidence).toMatchObject({
      device: "id:laptop-2",
      source: "device_id",
      known_devices: 1,
      managed: true,
    });
    const unmanaged = await runStep(detector, store, {
      request: login("alice", { device: { id: "kiosk-9", managed: false } }),
      now: T0 + DAY,
    });
    expect(unmanaged.finding).toMatchObject({ code: "new_device", severity: "medium", points: 35 });
    expect(unmanaged.finding?.message).toBe("new unmanaged device for this identity");
  });

  it("falls back to the browser family, so a browser update is not a new device", async () => {
    const ua = (v: string) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:${v}) Gecko/20100101 Firefox/${v}`;
    await runStep(detector, store, { request: login("bob", { user_agent: ua("131.0") }), now: T0 });
    const updated = await runStep(detector, store, {
      request: login("bob", { user_agent: ua("132.0") }),
      now: T0 + DAY,
    });
    expect(updated.finding).toBeUndefined();
    const other = await runStep(detector, store, {
      request: login("bob", { user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Safari/604.1" }),
      now: T0 + 2 * DAY,
    });
    expect(other.finding?.code).toBe("new_device");
    expect(other.finding?.evidence.source).toBe("user_agent");
  });

  it("uses enrichment's client facts for the fingerprint when there is no device id", async () => {
    await runStep(detector, store, { request: login("bob"), now: T0, enrichment: OSLO });
    const same = await runStep(detector, store, { request: login("bob"), now: T0 + 1, enrichment: OSLO });
    expect(same.finding).toBeUndefined();
  });

  it("does not learn from untrusted requests or failed logins", async () => {
    await runStep(detector, store, { request: login("carol", { device: { id: "d1" } }), now: T0 });
    const untrusted = await runStep(detector, store, {
      request: login("carol", { device: { id: "evil" } }),
      now: T0 + 1000,
      trusted: false,
    });
    expect(untrusted.learn).toHaveLength(1);
    const failed = await runStep(detector, store, {
      request: failedLogin("carol", { device: { id: "evil" } }),
      now: T0 + 2000,
    });
    expect(failed.learn).toHaveLength(0);
    const later = await runStep(detector, store, {
      request: login("carol", { device: { id: "evil" } }),
      now: T0 + 3000,
    });
    expect(later.finding?.code).toBe("new_device");
  });

  it("forgets devices not seen for longer than max_age_days", async () => {
    await runStep(detector, store, { request: login("dave", { device: { id: "old" } }), now: T0 });
    await runStep(detector, store, { request: login("dave", { device: { id: "current" } }), now: T0 + 100 * DAY });
    const back = await runStep(detector, store, {
      request: login("dave", { device: { id: "old" } }),
      now: T0 + 200 * DAY,
    });
    expect(back.finding?.code).toBe("new_device");
    expect(back.finding?.evidence.known_devices).toBe(1);
  });

  it("says nothing without a device id or user agent, and ignores machines", async () => {
    const none = await runStep(detector, store, { request: login("erin", {}), now: T0 });
    expect(none.finding).toBeUndefined();
    expect(none.learn).toHaveLength(0);
    const svc = await runStep(detector, store, {
      request: { subject: { type: "service", id: "s" }, action: { name: "read" }, resource: { type: "r", id: "1" } },
      now: T0,
    });
    expect(svc.applies).toBe(false);
  });
});
