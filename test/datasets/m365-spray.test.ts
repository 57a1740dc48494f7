/**
 * The M365 sign-in mapping, and the replay of the OTRF o365spray captures through the default policy
 * with the database enricher: every number asserted here is a number docs/datasets.md states.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inTimeOrder, type LabelledRequest } from "../../src/datasets/labelled-request.js";
import { loadM365Spray, M365_SPRAY_FILES, m365RequestOf, parseM365Record } from "../../src/datasets/m365-spray.js";
import { type M365Replay, replayM365 } from "../../src/datasets/m365-spray-replay.js";
import { replay } from "../../src/datasets/replay.js";
import { createEngine } from "../../src/engine/create-engine.js";
import { createDatabaseEnricher, type DatabaseEnricher } from "../../src/enrich/database-enricher.js";
import { loadPolicy } from "../../src/policy/load.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { datasetDir } from "./datasets-dir.js";

const DIR = datasetDir("otrf-m365-password-spray", M365_SPRAY_FILES);

const RECORD = {
  CreationTime: "2023-07-23T09:17:45",
  Id: "01d904ce-0000-4000-8000-000000000000",
  Operation: "UserLoggedIn",
  ResultStatus: "Success",
  Workload: "AzureActiveDirectory",
  ClientIP: "2a09:bac1:820:8::1a:9c",
  UserId: "Henrietta@contoso.onmicrosoft.com",
  ExtendedProperties: [
    { Name: "ResultStatusDetail", Value: "Success" },
    { Name: "UserAgent", Value: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/104.0.0.0" },
    { Name: "RequestType", Value: "OAuth2:Token" },
  ],
  ApplicationId: "eb539595-3fe1-474e-9c1d-feb3625d1be5",
  DeviceProperties: [
    { Name: "OS", Value: "Windows 10" },
    { Name: "IsCompliantAndManaged", Value: "False" },
    { Name: "SessionId", Value: "b3d59e5f" },
  ],
  ErrorNumber: "0",
};

describe("M365 sign-in mapping", () => {
  it("maps a sign-in record to a login request with address, client, device and result", () => {
    const record = parseM365Record(JSON.stringify(RECORD), "t:1");
    expect(m365RequestOf(record, "t:1")).toEqual({
      subject: { type: "user", id: "Henrietta@contoso.onmicrosoft.com" },
      action: { name: "login", properties: { request_type: "OAuth2:Token" } },
      resource: { type: "application", id: "eb539595-3fe1-474e-9c1d-feb3625d1be5" },
      context: {
        time: "2023-07-23T09:17:45.000Z",
        authn: { result: "success" },
        ip: "2a09:bac1:820:8::1a:9c",
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/104.0.0.0",
        // Not "compliant and managed": certainly not compliant; managed stays unknown.
        device: { os: "Windows 10", compliant: false },
        session: { id: "b3d59e5f" },
      },
    });
  });

  it("keeps the failure and its error number, and leaves other operations out", () => {
    const failed = parseM365Record(
      JSON.stringify({ ...RECORD, Operation: "UserLoginFailed", ErrorNumber: "50126", DeviceProperties: [] }),
      "t:1",
    );
    const request = m365RequestOf(failed, "t:1");
    expect(request?.context?.authn).toEqual({ result: "failure" });
    expect(request?.action.properties).toEqual({ error_number: "50126", request_type: "OAuth2:Token" });
    expect(request?.context?.device).toBeUndefined();
    const other = parseM365Record(JSON.stringify({ ...RECORD, Operation: "Add user." }), "t:2");
    expect(m365RequestOf(other, "t:2")).toBeUndefined();
  });

  it("names the file and line of a malformed record", () => {
    expect(() => parseM365Record("{", "spray.json:3")).toThrow(/^spray\.json:3: not a JSON object: /);
    expect(() => parseM365Record(JSON.stringify({ ...RECORD, UserId: 7 }), "spray.json:4")).toThrow(
      'spray.json:4: "UserId" is missing or not a string',
    );
    expect(() => m365RequestOf({ ...RECORD, CreationTime: "yesterday" }, "spray.json:5")).toThrow(
      'spray.json:5: CreationTime "yesterday" is not a date-time',
    );
  });
});

describe.skipIf(DIR === undefined)("M365 password spray replayed through the default policy", () => {
  const dir = DIR ?? "";
  let enricher: DatabaseEnricher;
  let result: M365Replay;
  beforeAll(async () => {
    enricher = await createDatabaseEnricher();
    result = await replayM365({ dir, enricher });
  }, 60_000);
  afterAll(() => enricher?.close());

  it("reads 23 records and drops the 7 repeated ones", () => {
    expect(result.stats).toEqual({ records: 23, duplicates: 7, requests: 16 });
    expect(result.legitimate.events).toBe(0);
    expect(new Set(result.events.map((e) => e.subject)).size).toBe(9);
    expect(
      result.events.filter((e) => e.subject.includes("contoso.onmicrosoft.com") && !e.subject.includes("@")),
    ).toEqual([]);
  });

  it("holds the facts the explanation relies on", async () => {
    const data = await loadM365Spray({ dir });
    const errors = data.requests.map((r) => r.request.action.properties?.error_number ?? "none");
    expect(errors.filter((e) => e === "50126")).toHaveLength(14);
    const odd = data.requests.filter((r) => r.request.action.properties?.error_number === "500011");
    expect(odd.map((r) => [r.origin, r.request.subject.id])).toEqual([
      ["o365spray_default.json:1", "Henrietta@contoso.onmicrosoft.com"],
    ]);
    // Of the seven repeated records, four copies carry a damaged user name.
    const raw = readFileSync(join(dir, "o365spray_reporting.json"), "utf8");
    const users = raw
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => (JSON.parse(l) as { UserId: string }).UserId);
    expect(users.filter((u) => !u.includes("@"))).toHaveLength(4);
    expect(new Set(data.requests.map((r) => r.request.context?.ip))).toEqual(
      new Set(["2a09:bac1:820:8::1a:9c", "2a09:bac5:114:105::1a:9b"]),
    );
  });

  it("throttles the spray from its sixth attempt on each address", () => {
    expect(result.attack.byPath).toMatchObject({ allow: 9, throttle: 6, step_up: 1 });
    expect(result.attack.offFastPath).toBe(7);
    const throttled = result.events.filter((e) => e.controlPath === "throttle");
    expect(throttled.every((e) => e.detectors.includes("password_spray") && e.reasons.includes("password_spray"))).toBe(
      true,
    );
    expect(throttled.map((e) => e.origin)).toEqual([
      "o365spray_reporting.json:6",
      "o365spray_reporting.json:7",
      "o365spray_default.json:8",
      "o365spray_default.json:9",
      "o365spray_default.json:4",
      "o365spray_default.json:5",
    ]);
    expect(result.attack.findings).toEqual({ new_device: 16, device_posture: 16, password_spray: 6 });
    // Every request is a first-seen identity: failures never teach, and the one success is stepped up and failed.
    expect(result.events.every((e) => e.codes.includes("first_seen_identity"))).toBe(true);
  });

  it("steps the spray's successful login up as a first sign-in: the spray itself is not seen at its fourth attempt", () => {
    const success = result.events.filter((e) => e.origin === "o365spray_reporting.json:2");
    expect(success).toHaveLength(1);
    expect(success[0]).toMatchObject({
      subject: "user:Henrietta@contoso.onmicrosoft.com",
      controlPath: "step_up",
      outcome: "step_up_failed",
      band: "medium",
      score: 33.8,
      detectors: ["new_device", "device_posture"],
      reasons: ["first_seen_identity"],
    });
    expect(result.events.findIndex((e) => e.origin === "o365spray_reporting.json:2")).toBe(3);
    expect(result.attack.byPath.step_up).toBe(1);
  });

  it("with one earlier sign-in of Henrietta's on record, the success passes from her client and steps up from another", async () => {
    // A constructed history, not part of the recording: one sign-in three days before, passed with
    // MFA, without an address, from the success's own client or from a different browser.
    const data = await loadM365Spray({ dir, files: ["o365spray_reporting.json"] });
    const success = data.requests.find((r) => r.request.context?.authn?.result === "success");
    if (!success) throw new Error("no successful sign-in in o365spray_reporting.json");
    const earlier = (userAgent: string | undefined): LabelledRequest => {
      const { ip: _ip, ...context } = success.request.context ?? {};
      return {
        request: {
          ...success.request,
          context: { ...context, time: "2023-07-20T09:00:00.000Z", ...(userAgent ? { user_agent: userAgent } : {}) },
        },
        attack: false,
        origin: "constructed:1",
      };
    };
    const runWith = async (history: LabelledRequest) => {
      const engine = createEngine({
        policy: await loadPolicy(),
        state: new MemoryStateStore(),
        eventTime: "request",
        enricher,
      });
      try {
        const report = await replay(engine, [history, ...data.requests]);
        expect(report.events[0]).toMatchObject({ controlPath: "step_up", outcome: "step_up_passed" });
        return report.events.find((e) => e.origin === "o365spray_reporting.json:2");
      } finally {
        await engine.close();
      }
    };
    expect(await runWith(earlier(undefined))).toMatchObject({
      controlPath: "allow",
      score: 30,
      detectors: ["device_posture"],
    });
    const safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/16.5 Safari/605.1.15";
    const other = await runWith(earlier(safari));
    expect(other).toMatchObject({ controlPath: "step_up", score: 45, detectors: ["new_device", "device_posture"] });
    expect(other?.codes).toContain("new_device");
    expect(other?.reasons).not.toContain("first_seen_identity");
  });

  it("steps the successful login up when it comes last within its second, and the attacker fails", async () => {
    const data = await loadM365Spray({ dir, files: ["o365spray_reporting.json"] });
    const success = data.requests.filter((r) => r.request.context?.authn?.result === "success");
    const others = data.requests.filter((r) => r.request.context?.authn?.result !== "success");
    expect(success).toHaveLength(1);
    const engine = createEngine({
      policy: await loadPolicy(),
      state: new MemoryStateStore(),
      eventTime: "request",
      enricher,
    });
    try {
      const report = await replay(engine, inTimeOrder([...others, ...success]));
      const last = report.events.at(-1);
      expect(last).toMatchObject({
        origin: "o365spray_reporting.json:2",
        controlPath: "step_up",
        outcome: "step_up_failed",
      });
      // The spray rule, which does not depend on history, and the cold-start rule both ask for it.
      expect(last?.reasons).toEqual(["password_spray_success", "first_seen_identity"]);
      expect(last?.codes).toContain("password_spray");
    } finally {
      await engine.close();
    }
  });
});
