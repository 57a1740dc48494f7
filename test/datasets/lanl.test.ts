/**
 * The LANL mapping line by line, and the replay of the real fragment through the default policy:
 * every number asserted here is a number docs/datasets.md states.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  LANL_EPOCH_MS,
  LANL_FILES,
  lanlRequestOf,
  lanlSubjectOf,
  parseLanlAuthLine,
  parseRedTeamLabels,
} from "../../src/datasets/lanl.js";
import { type LanlReplay, replayLanl } from "../../src/datasets/lanl-replay.js";
import { compilePolicy } from "../../src/policy/compile.js";
import { DEFAULT_POLICY_FILE, readFromDisk } from "../../src/policy/load.js";
import { datasetDir } from "./datasets-dir.js";

const DIR = datasetDir("lanl-cyber1", Object.values(LANL_FILES));

describe("LANL mapping", () => {
  it("maps a red-team network logon to a login of a person from a device to a computer", () => {
    const event = parseLanlAuthLine("150885,U620@DOM1,U620@DOM1,C17693,C1003,NTLM,Network,LogOn,Success", "t:1");
    expect(lanlRequestOf(event)).toEqual({
      subject: { type: "user", id: "U620@DOM1" },
      action: { name: "login", properties: { orientation: "LogOn", logon_type: "Network" } },
      resource: { type: "computer", id: "C1003" },
      context: {
        time: "2026-01-06T17:54:45.000Z",
        authn: { result: "success", method: "NTLM" },
        device: { id: "C17693" },
      },
    });
    expect(new Date(LANL_EPOCH_MS).getUTCDay()).toBe(1); // second 0 is a Monday
  });

  it("reads a network logon as access to a computer when asked to", () => {
    const event = parseLanlAuthLine("7,U66@DOM1,U66@DOM1,C1,C2,Kerberos,Network,LogOn,Fail", "t:1");
    const request = lanlRequestOf(event, { networkLogons: "access" });
    expect(request?.action.name).toBe("network_logon");
    expect(request?.context?.authn).toEqual({ result: "failure", method: "Kerberos" });
    // An interactive logon stays a login whatever the reading of network logons.
    const interactive = parseLanlAuthLine("7,U66@DOM1,U66@DOM1,C1,C1,Negotiate,Interactive,LogOn,Success", "t:2");
    expect(lanlRequestOf(interactive, { networkLogons: "access" })?.action.name).toBe("login");
  });

  it("maps tickets and account mappings to non-login actions, and leaves log-offs out", () => {
    const tgs = parseLanlAuthLine("1,U10@DOM1,U10@DOM1,C229,C529,?,?,TGS,Success", "t:1");
    expect(lanlRequestOf(tgs)?.action).toEqual({ name: "service_ticket", properties: { orientation: "TGS" } });
    expect(lanlRequestOf(tgs)?.context?.authn).toEqual({ result: "success" });
    const tgt = parseLanlAuthLine("1,U10@DOM1,U10@DOM1,C229,C529,Kerberos,?,TGT,Success", "t:2");
    expect(lanlRequestOf(tgt)?.action.name).toBe("login");
    const map = parseLanlAuthLine("1,U101@DOM1,C1862$@DOM1,C1862,C1862,?,?,AuthMap,Success", "t:3");
    expect(lanlRequestOf(map)?.action).toEqual({
      name: "auth_map",
      properties: { orientation: "AuthMap", target_user: "C1862$@DOM1" },
    });
    const logoff = parseLanlAuthLine("1,U1137@DOM1,U1137@DOM1,C1065,C1065,?,Network,LogOff,Success", "t:4");
    expect(lanlRequestOf(logoff)).toBeUndefined();
  });

  it("maps computer accounts and built-in principals to services presented by their source computer", () => {
    expect(lanlSubjectOf("C1862$@DOM1")).toEqual({ type: "service", id: "C1862$@DOM1" });
    expect(lanlSubjectOf("ANONYMOUS LOGON@C586").type).toBe("service");
    expect(lanlSubjectOf("U10@DOM1").type).toBe("user");
    const event = parseLanlAuthLine("3,C1862$@DOM1,C1862$@DOM1,C1862,C528,Kerberos,Network,LogOn,Success", "t:1");
    const request = lanlRequestOf(event);
    expect(request?.context?.workload).toEqual({ spiffe_id: "spiffe://dom1/computer/C1862" });
    expect(request?.context?.device).toBeUndefined();
  });

  it("names the file and line of a malformed line", () => {
    expect(() => parseLanlAuthLine("1,U1@DOM1,U1@DOM1,C1,C2,NTLM,Network,LogOn", "auth.txt:7")).toThrow(
      'auth.txt:7: expected 9 comma-separated fields, got 8 in "1,U1@DOM1,U1@DOM1,C1,C2,NTLM,Network,LogOn"',
    );
    expect(() => parseLanlAuthLine("1,U1@DOM1,U1@DOM1,C1,C2,NTLM,Network,LogOn,Maybe", "auth.txt:8")).toThrow(
      'auth.txt:8: result "Maybe" is neither "Success" nor "Fail"',
    );
    expect(() => parseLanlAuthLine("x,U1@DOM1,U1@DOM1,C1,C2,NTLM,Network,LogOn,Fail", "auth.txt:9")).toThrow(
      'auth.txt:9: time "x" is not a whole number of seconds',
    );
    expect(() => parseRedTeamLabels("150885,U620@DOM1,C17693\n", "redteam.txt")).toThrow(/^redteam\.txt:1: expected/);
  });
});

describe.skipIf(DIR === undefined)("LANL red team replayed through the default policy", () => {
  const dir = DIR ?? "";
  let result: LanlReplay;
  beforeAll(async () => {
    result = await replayLanl({ dir });
  }, 60_000);

  it("reads every line, labels the red-team lines and leaves log-offs out", () => {
    // Counted here from the raw files, independently of the loader.
    const lines = (file: string) =>
      readFileSync(join(dir, file), "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "");
    const all = [...lines(LANL_FILES.benign), ...lines(LANL_FILES.redTeamAuth)];
    const logOffs = all.filter((l) => l.split(",")[7] === "LogOff").length;
    const labels = new Set(lines(LANL_FILES.redTeam));
    const labelled = lines(LANL_FILES.redTeamAuth).filter((l) => {
      const f = l.split(",");
      return labels.has([f[0], f[1], f[3], f[4]].join(","));
    }).length;
    expect(result.stats).toEqual({
      benignLines: 15_000,
      redTeamAuthLines: 1_892,
      labelledLines: labelled,
      redTeamEvents: labels.size,
      coveredRedTeamEvents: 701,
      skippedLogOffs: logOffs,
    });
    expect(labelled).toBe(1_890);
    expect(labels.size).toBe(715);
    expect(result.events).toHaveLength(all.length - logOffs);
    expect(result.attack.events).toBe(1_890);
    expect(result.redTeamEvents).toHaveLength(701);
  });

  it("holds the facts the explanation relies on", () => {
    const attack = result.events.filter((e) => e.attack);
    const accounts = new Set(attack.map((e) => e.subject));
    const sample = result.events.filter((e) => e.origin.startsWith(LANL_FILES.benign));
    const sampleAccounts = new Set(sample.map((e) => e.subject));
    expect(accounts.size).toBe(104);
    expect([...accounts].filter((a) => sampleAccounts.has(a))).toHaveLength(22);
    // For the others, the first request ever seen is a red-team logon, scored as a first-seen identity.
    const firstIsAttack = new Map<string, boolean>();
    for (const e of result.events) if (!firstIsAttack.has(e.subject)) firstIsAttack.set(e.subject, e.attack);
    const firstSeen = [...accounts].filter((a) => firstIsAttack.get(a) === true);
    expect(firstSeen).toHaveLength(82);
    expect(attack.filter((e) => e.score === 3.8 && e.detectors.join() === "new_device")).toHaveLength(82);
    // The most distinct computers one red-team account reaches within any 10 minutes.
    const byAccount = new Map<string, { t: number; computer: string }[]>();
    for (const e of attack) {
      const list = byAccount.get(e.subject) ?? [];
      list.push({ t: Date.parse(e.time), computer: e.resource });
      byAccount.set(e.subject, list);
    }
    let most = 0;
    for (const list of byAccount.values()) {
      for (const { t } of list) {
        most = Math.max(most, new Set(list.filter((x) => x.t > t - 600_000 && x.t <= t).map((x) => x.computer)).size);
      }
    }
    expect(most).toBe(12);
    // The two extracted lines without a label: U737's service tickets at second 1,089,603.
    const unlabelled = result.events.filter((e) => !e.attack && e.origin.startsWith(LANL_FILES.redTeamAuth));
    expect(unlabelled.map((e) => [e.subject, e.action, e.time])).toEqual([
      ["user:U737@DOM1", "service_ticket", new Date(LANL_EPOCH_MS + 1_089_603_000).toISOString()],
      ["user:U737@DOM1", "service_ticket", new Date(LANL_EPOCH_MS + 1_089_603_000).toISOString()],
    ]);
  });

  it("replays the red-team lines alone when asked", async () => {
    const alone = await replayLanl({ dir, redTeamOnly: true });
    expect(alone.stats.benignLines).toBe(0);
    expect(alone.events).toHaveLength(1_892);
    expect(alone.attack.events).toBe(1_890);
    expect(alone.redTeamEvents).toHaveLength(701);
  });

  it("replays in time order", () => {
    const times = result.events.map((e) => Date.parse(e.time));
    expect(times.every((t, i) => i === 0 || t >= (times[i - 1] ?? 0))).toBe(true);
  });

  it("routes none of the 701 red-team events off the fast path, nor any benign request", () => {
    expect(result.redTeamEvents.filter((e) => e.offFastPath > 0)).toHaveLength(0);
    expect(result.attack.byPath.allow).toBe(1_890);
    expect(result.legitimate.offFastPath).toBe(0);
    // Nothing asked anyone anything, so no outcome was fed back.
    expect(result.events.filter((e) => e.outcome !== undefined)).toHaveLength(0);
  });

  it("sees the red team only through new_device, atypical_hour and failed_login_velocity, all too weak alone", () => {
    expect(result.attack.findings).toEqual({ new_device: 314, atypical_hour: 303, failed_login_velocity: 6 });
    expect(result.legitimate.findings).toEqual({ new_device: 1_311, atypical_hour: 161, failed_login_velocity: 20 });
    const attack = result.events.filter((e) => e.attack);
    expect(new Set(attack.map((e) => e.segment))).toEqual(new Set(["people-login"]));
    expect(Math.max(...attack.map((e) => e.score))).toBe(25);
    // 220 red-team lines reach the medium band: allowed, but what they show is not learned.
    expect(attack.filter((e) => e.band === "medium")).toHaveLength(220);
    expect(attack.filter((e) => e.band === "medium").every((e) => e.detectors.includes("atypical_hour"))).toBe(true);
  });

  it("reading network logons as access lets lateral_movement speak, on benign accounts only", async () => {
    const access = await replayLanl({ dir, networkLogons: "access" });
    expect(access.attack.offFastPath).toBe(0);
    expect(access.attack.findings.lateral_movement).toBeUndefined();
    expect(access.legitimate.findings.lateral_movement).toBe(76);
    expect(access.legitimate.byPath.step_up).toBe(76);
    const subjects = new Set(
      access.events.filter((e) => e.detectors.includes("lateral_movement")).map((e) => e.subject),
    );
    expect(subjects.size).toBe(7);
  }, 60_000);

  it("a candidate policy stepping people's logins up at 25 catches 80 events at the cost of 4 benign step-ups", async () => {
    const text = readFileSync(DEFAULT_POLICY_FILE, "utf8");
    const candidateText = text.replace("- { at: 40, path: step_up }", "- { at: 25, path: step_up }");
    expect(candidateText).not.toBe(text);
    const policy = compilePolicy(candidateText, DEFAULT_POLICY_FILE, { readFile: readFromDisk });
    const candidate = await replayLanl({ dir, policy });
    expect(candidate.redTeamEvents.filter((e) => e.offFastPath > 0)).toHaveLength(80);
    expect(candidate.attack.byPath.step_up).toBe(220);
    expect(candidate.legitimate.byPath.step_up).toBe(4);
    expect(
      new Set(candidate.events.filter((e) => !e.attack && e.controlPath === "step_up").map((e) => e.subject)).size,
    ).toBe(3);
    expect(
      new Set(candidate.events.filter((e) => e.attack && e.controlPath === "step_up").map((e) => e.subject)).size,
    ).toBe(9);
    // The attacker fails every step-up and the owners pass theirs.
    const outcomes = candidate.events.filter((e) => e.outcome !== undefined);
    expect(outcomes.every((e) => e.outcome === (e.attack ? "step_up_failed" : "step_up_passed"))).toBe(true);
    expect(outcomes).toHaveLength(224);
  }, 60_000);
});
