/**
 * Turns LANL "cyber1" authentication events (auth.txt lines) into Signalbox access requests, labelled
 * by the red-team file. docs/datasets.md explains every choice of the mapping.
 */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AccessRequest, JsonObject, RequestContext, Subject } from "../model/request.js";
import { inTimeOrder, type LabelledRequest } from "./labelled-request.js";

/** The files of the LANL fragment, as they sit in its folder. */
export const LANL_FILES = {
  benign: "auth_sample_safekit_days0-2.txt",
  redTeamAuth: "redteam_auth_lines.txt",
  redTeam: "redteam.txt",
} as const;

/**
 * LANL times are seconds from an undisclosed start. Second 0 is mapped to a Monday at midnight UTC so
 * that day 0 is a Monday and hours of the week read naturally; the real weekday is unknown.
 */
export const LANL_EPOCH_MS = Date.UTC(2026, 0, 5);

/** One auth.txt line: `time,src user@domain,dst user@domain,src computer,dst computer,auth type,logon type,orientation,result`. */
export interface LanlAuthEvent {
  readonly time: number;
  readonly sourceUser: string;
  readonly destinationUser: string;
  readonly sourceComputer: string;
  readonly destinationComputer: string;
  readonly authType: string;
  readonly logonType: string;
  readonly orientation: string;
  readonly success: boolean;
}

/**
 * How a network logon (logon type `Network`) is read. `login`: it is an authentication like any
 * other, so failures count as failed logins. `access`: it is the use of credentials already held to
 * reach another computer (`action.name == "network_logon"`), which is what lateral movement is made of.
 */
export type NetworkLogonMapping = "login" | "access";

export interface LanlMappingOptions {
  /** Default `login`, the reading the contract gives a logon. */
  readonly networkLogons?: NetworkLogonMapping;
}

/** Windows' built-in principals authenticate like machines, not people. */
const SYSTEM_PRINCIPALS: ReadonlySet<string> = new Set([
  "SYSTEM",
  "LOCAL SERVICE",
  "NETWORK SERVICE",
  "ANONYMOUS LOGON",
]);

/** Orientations that end a session: no enforcement point asks whether they may happen. */
const NOT_A_REQUEST: ReadonlySet<string> = new Set(["LogOff", "ScreenLock"]);

/** Orientations that present credentials: a sign-in in Signalbox's vocabulary. */
const LOGIN_ORIENTATIONS: ReadonlySet<string> = new Set(["LogOn", "TGT", "ScreenUnlock"]);

/** Parses one auth.txt line; `origin` (`file:line`) names it in errors. */
export function parseLanlAuthLine(line: string, origin: string): LanlAuthEvent {
  const f = line.split(",");
  if (f.length !== 9) throw new Error(`${origin}: expected 9 comma-separated fields, got ${f.length} in "${line}"`);
  const [
    time,
    sourceUser,
    destinationUser,
    sourceComputer,
    destinationComputer,
    authType,
    logonType,
    orientation,
    result,
  ] = f as [string, string, string, string, string, string, string, string, string];
  if (!/^\d+$/.test(time)) throw new Error(`${origin}: time "${time}" is not a whole number of seconds`);
  if (result !== "Success" && result !== "Fail") {
    throw new Error(`${origin}: result "${result}" is neither "Success" nor "Fail"`);
  }
  for (const [name, value] of [
    ["source user", sourceUser],
    ["source computer", sourceComputer],
    ["destination computer", destinationComputer],
    ["orientation", orientation],
  ] as const) {
    if (value === "") throw new Error(`${origin}: the ${name} is empty`);
  }
  return {
    time: Number(time),
    sourceUser,
    destinationUser,
    sourceComputer,
    destinationComputer,
    authType,
    logonType,
    orientation,
    success: result === "Success",
  };
}

/** The key that ties an auth.txt line to a red-team label: time, source user, source and destination computer. */
export function redTeamKey(time: number, user: string, sourceComputer: string, destinationComputer: string): string {
  return `${time},${user},${sourceComputer},${destinationComputer}`;
}

/** Parses redteam.txt (`time,user@domain,source computer,destination computer`) into its set of keys. */
export function parseRedTeamLabels(text: string, file: string): Set<string> {
  const keys = new Set<string>();
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    const f = line.split(",");
    if (f.length !== 4 || !/^\d+$/.test(f[0] ?? "")) {
      throw new Error(
        `${file}:${i + 1}: expected "time,user@domain,source computer,destination computer", got "${line}"`,
      );
    }
    const [time, user, src, dst] = f as [string, string, string, string];
    keys.add(redTeamKey(Number(time), user, src, dst));
  });
  return keys;
}

function nameAndDomain(account: string): { name: string; domain: string } {
  const at = account.lastIndexOf("@");
  return at < 0 ? { name: account, domain: "" } : { name: account.slice(0, at), domain: account.slice(at + 1) };
}

/** `user` for people; `service` for computer accounts (`C123$`) and Windows' built-in principals. */
export function lanlSubjectOf(account: string): Subject {
  const { name } = nameAndDomain(account);
  const machine = name.endsWith("$") || SYSTEM_PRINCIPALS.has(name.toUpperCase());
  return { type: machine ? "service" : "user", id: account };
}

function known(value: string): string | undefined {
  return value === "" || value === "?" ? undefined : value;
}

function actionNameOf(e: LanlAuthEvent, networkLogons: NetworkLogonMapping): string {
  if (e.orientation === "LogOn" && e.logonType === "Network" && networkLogons === "access") return "network_logon";
  if (LOGIN_ORIENTATIONS.has(e.orientation)) return "login";
  if (e.orientation === "TGS") return "service_ticket";
  if (e.orientation === "AuthMap") return "auth_map";
  return e.orientation.toLowerCase();
}

/**
 * The access request an auth event stands for, or undefined for a log-off (the end of a session is
 * not a request for access).
 */
export function lanlRequestOf(e: LanlAuthEvent, options: LanlMappingOptions = {}): AccessRequest | undefined {
  if (NOT_A_REQUEST.has(e.orientation)) return undefined;
  const subject = lanlSubjectOf(e.sourceUser);
  const properties: JsonObject = { orientation: e.orientation };
  const logonType = known(e.logonType);
  if (logonType) properties.logon_type = logonType;
  if (e.destinationUser !== "" && e.destinationUser !== e.sourceUser) properties.target_user = e.destinationUser;

  const context: RequestContext = {
    time: new Date(LANL_EPOCH_MS + e.time * 1000).toISOString(),
    authn: { result: e.success ? "success" : "failure", ...(known(e.authType) ? { method: e.authType } : {}) },
  };
  if (subject.type === "user") {
    // The computer a person authenticates from is the closest thing LANL has to their device.
    context.device = { id: e.sourceComputer };
  } else {
    // A computer account runs on its own host: a SPIFFE-shaped name of the source computer stands
    // for the workload presenting it, so use of the account from another host is visible.
    const domain = nameAndDomain(e.sourceUser).domain.toLowerCase() || "lanl";
    context.workload = { spiffe_id: `spiffe://${domain}/computer/${e.sourceComputer}` };
  }
  return {
    subject,
    action: { name: actionNameOf(e, options.networkLogons ?? "login"), properties },
    resource: { type: "computer", id: e.destinationComputer },
    context,
  };
}

export interface LanlLoadOptions extends LanlMappingOptions {
  /** The folder holding the three LANL files. */
  readonly dir: string;
  /** Replay the red-team lines only, without the benign sample. Default `false`. */
  readonly redTeamOnly?: boolean;
}

export interface LanlLoadStats {
  readonly benignLines: number;
  readonly redTeamAuthLines: number;
  /** Lines of the red-team extract that match a red-team label exactly (time, user, computers). */
  readonly labelledLines: number;
  /** Unique red-team events (label keys) in redteam.txt. */
  readonly redTeamEvents: number;
  /** Unique red-team events with at least one auth line in the extract. */
  readonly coveredRedTeamEvents: number;
  /** Log-off lines left out (not requests). */
  readonly skippedLogOffs: number;
}

export interface LanlDataset {
  /** Requests in time order, ties in file order (benign sample first). */
  readonly requests: readonly LabelledRequest[];
  readonly stats: LanlLoadStats;
}

async function readLines(dir: string, file: string): Promise<{ line: string; origin: string }[]> {
  const text = await readFile(join(dir, file), "utf8");
  const out: { line: string; origin: string }[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line !== "") out.push({ line, origin: `${file}:${i + 1}` });
  });
  return out;
}

/** Reads the LANL fragment and returns its requests, labelled by redteam.txt, in time order. */
export async function loadLanl(options: LanlLoadOptions): Promise<LanlDataset> {
  const labels = parseRedTeamLabels(await readFile(join(options.dir, LANL_FILES.redTeam), "utf8"), LANL_FILES.redTeam);
  const benign = options.redTeamOnly ? [] : await readLines(options.dir, LANL_FILES.benign);
  const redTeam = await readLines(options.dir, LANL_FILES.redTeamAuth);

  const requests: LabelledRequest[] = [];
  const covered = new Set<string>();
  let labelledLines = 0;
  let skippedLogOffs = 0;
  for (const { line, origin } of [...benign, ...redTeam]) {
    const event = parseLanlAuthLine(line, origin);
    const key = redTeamKey(event.time, event.sourceUser, event.sourceComputer, event.destinationComputer);
    const attack = labels.has(key);
    if (attack) {
      labelledLines++;
      covered.add(key);
    }
    const request = lanlRequestOf(event, options);
    if (!request) {
      skippedLogOffs++;
      continue;
    }
    requests.push({ request, attack, origin });
  }
  return {
    requests: inTimeOrder(requests),
    stats: {
      benignLines: benign.length,
      redTeamAuthLines: redTeam.length,
      labelledLines,
      redTeamEvents: labels.size,
      coveredRedTeamEvents: covered.size,
      skippedLogOffs,
    },
  };
}
