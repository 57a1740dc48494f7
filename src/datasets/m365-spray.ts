/**
 * Turns Microsoft 365 unified-audit-log sign-in records (Azure AD `UserLoggedIn` / `UserLoginFailed`,
 * one JSON object a line) into Signalbox login requests. docs/datasets.md explains the mapping.
 */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AccessRequest, DeviceContext, JsonObject, RequestContext } from "../model/request.js";
import { inTimeOrder, type LabelledRequest } from "./labelled-request.js";

/** The two o365spray captures of the OTRF fragment. */
export const M365_SPRAY_FILES = ["o365spray_default.json", "o365spray_reporting.json"] as const;

/** The members of an audit record the mapping reads; the rest is kept out of the request. */
export interface M365SignInRecord {
  readonly Id: string;
  readonly CreationTime: string;
  readonly Operation: string;
  readonly UserId: string;
  readonly ClientIP?: string;
  readonly ApplicationId?: string;
  readonly ErrorNumber?: string;
  readonly ExtendedProperties?: readonly { Name: string; Value: string }[];
  readonly DeviceProperties?: readonly { Name: string; Value: string }[];
}

const OPERATIONS: Readonly<Record<string, "success" | "failure">> = {
  UserLoggedIn: "success",
  UserLoginFailed: "failure",
};

function isNameValueList(v: unknown): v is { Name: string; Value: string }[] {
  return Array.isArray(v) && v.every((x) => typeof x === "object" && x !== null && typeof x.Name === "string");
}

/** Parses and checks one record; `origin` (`file:line`) names it in errors. */
export function parseM365Record(line: string, origin: string): M365SignInRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new Error(`${origin}: not a JSON object: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${origin}: not a JSON object`);
  const r = value as Record<string, unknown>;
  for (const field of ["Id", "CreationTime", "Operation", "UserId"] as const) {
    if (typeof r[field] !== "string" || r[field] === "")
      throw new Error(`${origin}: "${field}" is missing or not a string`);
  }
  for (const field of ["ExtendedProperties", "DeviceProperties"] as const) {
    if (r[field] !== undefined && !isNameValueList(r[field])) {
      throw new Error(`${origin}: "${field}" is not a list of {Name, Value}`);
    }
  }
  return r as unknown as M365SignInRecord;
}

function property(list: M365SignInRecord["ExtendedProperties"], name: string): string | undefined {
  const v = list?.find((p) => p.Name === name)?.Value;
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** The audit log writes UTC without a zone (`2023-07-23T12:13:33`); RFC 3339 needs one. */
function rfc3339(creationTime: string, origin: string): string {
  const withZone = /([Zz]|[+-]\d{2}:\d{2})$/.test(creationTime) ? creationTime : `${creationTime}Z`;
  const t = Date.parse(withZone);
  if (Number.isNaN(t)) throw new Error(`${origin}: CreationTime "${creationTime}" is not a date-time`);
  return new Date(t).toISOString();
}

/**
 * The login request a sign-in record stands for, or undefined for an operation that is not a sign-in.
 * `IsCompliantAndManaged: False` only says one of the two is false; compliance needs management, so
 * the device is certainly not compliant, while whether it is managed stays unknown.
 */
export function m365RequestOf(record: M365SignInRecord, origin: string): AccessRequest | undefined {
  const result = OPERATIONS[record.Operation];
  if (!result) return undefined;
  const context: RequestContext = { time: rfc3339(record.CreationTime, origin), authn: { result } };
  if (record.ClientIP) context.ip = record.ClientIP;
  const userAgent = property(record.ExtendedProperties, "UserAgent");
  if (userAgent) context.user_agent = userAgent;
  const device: DeviceContext = {};
  const os = property(record.DeviceProperties, "OS");
  if (os) device.os = os;
  const compliantAndManaged = property(record.DeviceProperties, "IsCompliantAndManaged");
  if (compliantAndManaged === "True") {
    device.compliant = true;
    device.managed = true;
  } else if (compliantAndManaged === "False") device.compliant = false;
  if (Object.keys(device).length > 0) context.device = device;
  const sessionId = property(record.DeviceProperties, "SessionId");
  if (sessionId) context.session = { id: sessionId };
  const properties: JsonObject = {};
  if (record.ErrorNumber && record.ErrorNumber !== "0") properties.error_number = record.ErrorNumber;
  const requestType = property(record.ExtendedProperties, "RequestType");
  if (requestType) properties.request_type = requestType;
  return {
    subject: { type: "user", id: record.UserId },
    action: { name: "login", properties },
    resource: { type: "application", id: record.ApplicationId ?? "unknown" },
    context,
  };
}

export interface M365LoadStats {
  readonly records: number;
  /** Records left out because an earlier record had the same `Id` (the export repeats records). */
  readonly duplicates: number;
  readonly requests: number;
}

export interface M365Dataset {
  /** Login requests in time order, ties in file order; every one is attack traffic. */
  readonly requests: readonly LabelledRequest[];
  readonly stats: M365LoadStats;
}

/**
 * Reads the given captures (default: both). A record whose `Id` was already read is a copy, and
 * is left out: the reporting capture holds each of its seven records twice, the second time with
 * a damaged `UserId`, and replaying both would invent five accounts and double the attempts.
 */
export async function loadM365Spray(options: {
  readonly dir: string;
  readonly files?: readonly string[];
}): Promise<M365Dataset> {
  const seen = new Set<string>();
  const requests: LabelledRequest[] = [];
  let records = 0;
  let duplicates = 0;
  for (const file of options.files ?? M365_SPRAY_FILES) {
    const text = await readFile(join(options.dir, file), "utf8");
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]?.trim() ?? "";
      if (line === "") continue;
      const origin = `${file}:${i + 1}`;
      const record = parseM365Record(line, origin);
      records++;
      if (seen.has(record.Id)) {
        duplicates++;
        continue;
      }
      seen.add(record.Id);
      const request = m365RequestOf(record, origin);
      // o365spray is the only source of these captures: every sign-in in them is the attack.
      if (request) requests.push({ request, attack: true, origin });
    }
  }
  return { requests: inTimeOrder(requests), stats: { records, duplicates, requests: requests.length } };
}
