/** Builds the access requests simulated actors send, in the contract's vocabulary. */

import type { AccessRequest, JsonObject } from "../model/request.js";
import type { City } from "./world.js";

export interface Place {
  readonly city: City;
  readonly ip: string;
}

export interface HumanCall {
  readonly at: number;
  readonly userId: string;
  readonly action: string;
  readonly resource?: { type: string; id: string; properties?: JsonObject };
  readonly actionProperties?: JsonObject;
  readonly place: Place;
  readonly ua: string;
  readonly device: { id: string; managed: boolean; os?: string };
  readonly session?: { id: string; authTime: number; jti: string };
  readonly authn?: { result: "success" | "failure"; method?: string; mfa_result?: "approved" | "denied" | "timeout" };
}

export function humanRequest(c: HumanCall): AccessRequest {
  const context: JsonObject = {
    time: new Date(c.at).toISOString(),
    ip: c.place.ip,
    user_agent: c.ua,
    geo: {
      country: c.place.city.country,
      city: c.place.city.name,
      lat: c.place.city.lat,
      lon: c.place.city.lon,
      accuracy_km: 25,
    },
    // Managed devices report their posture through the MDM; a personal device only says it is unmanaged.
    device: c.device.managed
      ? { id: c.device.id, managed: true, compliant: true, edr: true }
      : { id: c.device.id, managed: false },
  };
  if (c.session) {
    context.session = { id: c.session.id, auth_time: Math.floor(c.session.authTime / 1000), amr: ["pwd"] };
    context.token = {
      jti: c.session.jti,
      iat: Math.floor(c.session.authTime / 1000),
      exp: Math.floor(c.session.authTime / 1000) + 8 * 3600,
    };
  }
  if (c.authn) context.authn = { method: "password", ...c.authn };
  return {
    subject: { type: "user", id: c.userId },
    action: { name: c.action, properties: c.actionProperties ?? {} },
    resource: c.resource ?? { type: "app", id: "portal", properties: { sensitivity: "low" } },
    context,
  };
}

export interface MachineCall {
  readonly at: number;
  readonly type: "service" | "ci_job" | "agent";
  readonly id: string;
  readonly action: string;
  readonly resource: { type: string; id: string; properties?: JsonObject };
  readonly ip: string;
  readonly token: { jti: string; iat: number; scope?: string };
  readonly workload?: JsonObject;
  readonly actionProperties?: JsonObject;
  readonly ua?: string;
}

export function machineRequest(c: MachineCall): AccessRequest {
  const context: JsonObject = {
    time: new Date(c.at).toISOString(),
    ip: c.ip,
    token: {
      jti: c.token.jti,
      iat: Math.floor(c.token.iat / 1000),
      exp: Math.floor(c.token.iat / 1000) + 3600,
      ...(c.token.scope ? { scope: c.token.scope } : {}),
    },
  };
  if (c.workload) context.workload = c.workload;
  if (c.ua) context.user_agent = c.ua;
  return {
    subject: { type: c.type, id: c.id },
    action: { name: c.action, properties: c.actionProperties ?? {} },
    resource: c.resource,
    context,
  };
}
