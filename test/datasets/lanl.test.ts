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

/** When U737's two unlabelled red-team service tickets happen: second 1,089,603. */
const TICKETS_TIME = new Date(LANL_EPOCH_MS + 1_089_603_000).toISOString();

/** Accounts whose first request in the replay is a red-team line: no history before the attacker. */
function coldAccounts(replayed: LanlReplay): Set<string> {
  const firstIsAttack = new Map<string, boolean>();
  for (const e of replayed.events) if (!firstIsAttack.has(e.subject)) firstIsAttack.set(e.subject, e.attack);
  return new Set([...firstIsAttack].filter(([, attack]) => attack).map(([subject]) => subject));
}

/** The raw line an event's origin (`file:line`) names. */
function rawLine(dir: string, origin: string): string {
  const at = origin.lastIndexOf(":");
  const lines = readFileSync(join(dir, origin.slice(0, at)), "utf8").split("\n");
  return lines[Number(origin.slice(at + 1)) - 1] ?? "";
}

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
    // For the others, the first request ever seen is a red-team logon: a first-seen identity.
    expect(coldAccounts(result).size).toBe(82);
    // Their red-team lines carry the first-seen finding as long as nothing is learned for them; no
    // line of the other 22 accounts carries it.
    const coldLines = attack.filter((e) => coldAccounts(result).has(e.subject));
    expect(coldLines).toHaveLength(975);
    const firstSeenLines = attack.filter((e) => e.codes.includes("first_seen_identity"));
    expect(firstSeenLines).toHaveLength(920);
    expect(firstSeenLines.every((e) => coldAccounts(result).has(e.subject))).toBe(true);
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
      ["user:U737@DOM1", "service_ticket", TICKETS_TIME],
      ["user:U737@DOM1", "service_ticket", TICKETS_TIME],
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

  it("steps up 404 of the 701 red-team events, all through the cold-start rule on accounts with no history", () => {
    expect(result.redTeamEvents.filter((e) => e.offFastPath > 0)).toHaveLength(404);
    expect(result.attack.byPath).toMatchObject({ allow: 975, step_up: 915 });
    expect(result.attack.offFastPath).toBe(915);
    const attack = result.events.filter((e) => e.attack);
    const cold = coldAccounts(result);
    // By event: 420 belong to the 82 accounts first seen through the red team, 404 of them stepped
    // up (the other 16 are U737's, see below); the 281 events of the other 22 accounts all pass.
    const userOf = (key: string) => `user:${key.split(",")[1]}`;
    const coldEvents = result.redTeamEvents.filter((e) => cold.has(userOf(e.key)));
    expect(coldEvents).toHaveLength(420);
    const passed = coldEvents.filter((e) => e.offFastPath === 0);
    expect(passed).toHaveLength(16);
    expect(passed.every((e) => userOf(e.key) === "user:U737@DOM1")).toBe(true);
    const warmEvents = result.redTeamEvents.filter((e) => !cold.has(userOf(e.key)));
    expect(warmEvents).toHaveLength(281);
    expect(warmEvents.every((e) => e.offFastPath === 0)).toBe(true);
    const steppedUp = attack.filter((e) => e.controlPath === "step_up");
    // Every one is the first-sign-in rule, on one of the 82 accounts whose first request was the red team's.
    expect(steppedUp.every((e) => e.reasons.join() === "first_seen_identity" && cold.has(e.subject))).toBe(true);
    expect(new Set(steppedUp.map((e) => e.subject)).size).toBe(82);
    // The attacker fails every step-up, so nothing is learned and the next logon is first-seen again.
    expect(steppedUp.every((e) => e.outcome === "step_up_failed")).toBe(true);
    // Let through on those accounts: 5 failed logons, which the rule leaves alone, and U737's lines
    // from the moment its two unlabelled service tickets (allowed, low risk) taught it a device.
    const coldAllowed = attack.filter((e) => cold.has(e.subject) && e.controlPath === "allow");
    expect(coldAllowed).toHaveLength(60);
    const failed = coldAllowed.filter((e) => e.subject !== "user:U737@DOM1");
    expect(failed.map((e) => rawLine(dir, e.origin).split(",")[8])).toEqual(["Fail", "Fail", "Fail", "Fail", "Fail"]);
    const tickets = Date.parse(TICKETS_TIME);
    const u737 = attack.filter((e) => e.subject === "user:U737@DOM1");
    expect(u737.filter((e) => e.controlPath === "allow")).toHaveLength(55);
    expect(u737.every((e) => (e.controlPath === "allow") === Date.parse(e.time) >= tickets)).toBe(true);
    // The 22 accounts with a request in the benign sample: every red-team line allowed.
    const warm = attack.filter((e) => !cold.has(e.subject));
    expect(warm).toHaveLength(915);
    expect(warm.every((e) => e.controlPath === "allow")).toBe(true);
  });

  it("steps up each benign account's first successful sign-in once, and nothing else benign", () => {
    const benign = result.events.filter((e) => !e.attack);
    expect(result.legitimate.byPath).toMatchObject({ allow: 8_788, step_up: 653 });
    expect(result.legitimate.offFastPath).toBe(653);
    const steppedUp = benign.filter((e) => e.controlPath === "step_up");
    expect(steppedUp.every((e) => e.reasons.join() === "first_seen_identity" && e.outcome === "step_up_passed")).toBe(
      true,
    );
    expect(new Set(steppedUp.map((e) => e.subject)).size).toBe(653);
    // No request reaches people-privileged, so its ladder plays no part in this replay.
    expect(new Set(result.events.map((e) => e.segment))).toEqual(new Set(["people-login", "people-standard"]));
  });

  it("without the first-sign-in rule, no red-team event and no benign request leaves the fast path", async () => {
    const text = readFileSync(DEFAULT_POLICY_FILE, "utf8");
    const from = text.indexOf("      - id: first-sign-in");
    const to = text.indexOf("      - id: mfa-bombing");
    expect(from).toBeGreaterThan(0);
    expect(to).toBeGreaterThan(from);
    const policy = compilePolicy(text.slice(0, from) + text.slice(to), DEFAULT_POLICY_FILE, {
      readFile: readFromDisk,
    });
    const without = await replayLanl({ dir, policy });
    expect(without.redTeamEvents.filter((e) => e.offFastPath > 0)).toHaveLength(0);
    expect(without.attack.byPath.allow).toBe(1_890);
    expect(without.legitimate.offFastPath).toBe(0);
    // The cold-start finding is still there, once per account: the first logon then teaches C17693.
    expect(without.events.filter((e) => e.attack && e.codes.includes("first_seen_identity"))).toHaveLength(82);
  }, 60_000);

  it("sees the red team only through new_device, atypical_hour and failed_login_velocity, all too weak alone", () => {
    expect(result.attack.findings).toEqual({ new_device: 1_152, atypical_hour: 263, failed_login_velocity: 6 });
    expect(result.legitimate.findings).toEqual({ new_device: 1_312, atypical_hour: 161, failed_login_velocity: 20 });
    const attack = result.events.filter((e) => e.attack);
    // C17693 and the other red-team computers as a new device of an account with history.
    expect(attack.filter((e) => e.codes.includes("new_device"))).toHaveLength(232);
    expect(new Set(attack.map((e) => e.segment))).toEqual(new Set(["people-login"]));
    expect(Math.max(...attack.map((e) => e.score))).toBe(25);
    // 214 red-team lines reach the medium band: allowed, but what they show is not learned.
    const medium = attack.filter((e) => e.band === "medium");
    expect(medium).toHaveLength(214);
    expect(medium.every((e) => e.detectors.includes("atypical_hour") && e.controlPath === "allow")).toBe(true);
    expect(medium.some((e) => coldAccounts(result).has(e.subject))).toBe(false);
    expect(attack.some((e) => e.detectors.includes("rate_anomaly"))).toBe(false);
  });

  it("reading network logons as access lets lateral_movement speak, on benign accounts only", async () => {
    const access = await replayLanl({ dir, networkLogons: "access" });
    expect(access.attack.offFastPath).toBe(0);
    expect(access.attack.findings.lateral_movement).toBeUndefined();
    // The red team's network logons are no longer sign-ins, so the first-sign-in rule never sees them.
    expect(new Set(access.events.filter((e) => e.attack).map((e) => e.segment))).toEqual(new Set(["people-standard"]));
    expect(access.legitimate.findings.lateral_movement).toBe(76);
    const steppedUp = access.events.filter((e) => !e.attack && e.controlPath === "step_up");
    expect(steppedUp).toHaveLength(113);
    expect(steppedUp.filter((e) => e.reasons.includes("lateral_movement"))).toHaveLength(76);
    expect(steppedUp.filter((e) => e.reasons.join() === "first_seen_identity")).toHaveLength(37);
    const subjects = new Set(
      access.events.filter((e) => e.detectors.includes("lateral_movement")).map((e) => e.subject),
    );
    expect(subjects.size).toBe(7);
    expect(
      access.events.filter((e) => e.subject === "user:U66@DOM1" && e.detectors.includes("lateral_movement")),
    ).toHaveLength(60);
    const firstSignIns = steppedUp.filter((e) => e.reasons.join() === "first_seen_identity");
    expect(new Set(firstSignIns.map((e) => e.subject)).size).toBe(37);
  }, 60_000);

  it("a candidate policy stepping people's logins up at 25 adds 79 events of accounts with history, at 4 benign step-ups", async () => {
    const text = readFileSync(DEFAULT_POLICY_FILE, "utf8");
    const candidateText = text.replace("- { at: 40, path: step_up }", "- { at: 25, path: step_up }");
    expect(candidateText).not.toBe(text);
    const policy = compilePolicy(candidateText, DEFAULT_POLICY_FILE, { readFile: readFromDisk });
    const candidate = await replayLanl({ dir, policy });
    const off = (r: LanlReplay) => new Set(r.redTeamEvents.filter((e) => e.offFastPath > 0).map((e) => e.key));
    const before = off(result);
    const after = off(candidate);
    // Everything the default policy stepped up is still stepped up; 79 events are added.
    expect([...before].every((k) => after.has(k))).toBe(true);
    expect(after.size).toBe(483);
    expect(after.size - before.size).toBe(79);
    // The ladder step-ups (not the first-sign-in rule): all on the 22 accounts with sample history.
    const byLadder = candidate.events.filter(
      (e) => e.controlPath === "step_up" && !e.reasons.includes("first_seen_identity"),
    );
    const attackByLadder = byLadder.filter((e) => e.attack);
    const benignByLadder = byLadder.filter((e) => !e.attack);
    expect(attackByLadder).toHaveLength(214);
    expect(attackByLadder.every((e) => e.reasons.join() === "new_device,atypical_hour")).toBe(true);
    expect(attackByLadder.some((e) => coldAccounts(candidate).has(e.subject))).toBe(false);
    expect(new Set(attackByLadder.map((e) => e.subject)).size).toBe(8);
    expect(benignByLadder).toHaveLength(4);
    expect(new Set(benignByLadder.map((e) => e.subject)).size).toBe(3);
    expect(candidate.attack.byPath.step_up).toBe(915 + 214);
    expect(candidate.legitimate.byPath.step_up).toBe(653 + 4);
    // The attacker fails every step-up and the owners pass theirs.
    const outcomes = candidate.events.filter((e) => e.outcome !== undefined);
    expect(outcomes.every((e) => e.outcome === (e.attack ? "step_up_failed" : "step_up_passed"))).toBe(true);
    expect(outcomes).toHaveLength(1_129 + 657);
  }, 60_000);
});
