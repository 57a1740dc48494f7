import { describe, expect, it } from "vitest";
import { devicePostureDetector as detector } from "../../src/detectors/device-posture.js";
import { compareVersions, versionParts } from "../../src/detectors/os-version.js";
import type { DeviceContext } from "../../src/model/request.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";
import { access, T0 } from "./people-requests.js";

function check(device: DeviceContext | undefined, params = {}) {
  return runStep(detector, new MemoryStateStore(), {
    request: access("alice", device ? { device } : {}),
    now: T0,
    params,
  });
}

describe("os versions", () => {
  it("compares part by part, numerically", () => {
    expect(compareVersions(versionParts("10.0.19044") ?? [], versionParts("10.0.19045") ?? [])).toBeLessThan(0);
    expect(compareVersions(versionParts("15.1") ?? [], versionParts("15.1.0") ?? [])).toBe(0);
    expect(compareVersions(versionParts("9.9") ?? [], versionParts("10") ?? [])).toBeLessThan(0);
    expect(versionParts("unknown")).toBeUndefined();
  });
});

describe("device_posture", () => {
  it("lists every issue and adds up points", async () => {
    const r = await check({ id: "d1", managed: false, edr: false, compliant: false, os: "macOS", os_version: "13.6" });
    expect(r.finding).toMatchObject({ code: "device_posture", severity: "high", points: 75 });
    expect(r.finding?.evidence).toEqual({
      issues: ["unmanaged", "no_edr", "non_compliant", "outdated_os"],
      device: "d1",
      os: "macOS",
      os_version: "13.6",
      min_os_version: "14.0",
    });
  });

  it("grades severity by what is wrong", async () => {
    expect((await check({ managed: false })).finding).toMatchObject({ severity: "low", points: 15 });
    expect((await check({ managed: false, edr: false })).finding).toMatchObject({ severity: "medium", points: 30 });
    expect((await check({ compliant: false })).finding).toMatchObject({ severity: "high", points: 30 });
  });

  it("uses the configured minimum per OS, case-insensitively", async () => {
    const params = { min_os_versions: { windows: "10.0.22631" } };
    const old = await check({ os: "Windows", os_version: "10.0.19045" }, params);
    expect(old.finding?.evidence).toMatchObject({ issues: ["outdated_os"], min_os_version: "10.0.22631" });
    expect((await check({ os: "Windows", os_version: "10.0.22631" }, params)).finding).toBeUndefined();
    expect((await check({ os: "Linux", os_version: "1.0" }, params)).finding).toBeUndefined();
  });

  it("is silent for a healthy device, unknown posture, unparseable versions or no device", async () => {
    expect(
      (await check({ managed: true, edr: true, compliant: true, os: "macOS", os_version: "15.1" })).finding,
    ).toBeUndefined();
    expect((await check({ id: "d2" })).finding).toBeUndefined();
    expect((await check({ os: "macOS", os_version: "beta" })).finding).toBeUndefined();
    expect((await check(undefined)).finding).toBeUndefined();
  });
});
