/** Everyday legitimate traffic: logins and sessions, travel, new phones, VPNs, services, CI and agents. */

import type { SimEvent } from "./event.js";
import type { Agent, Device, Person, Pipeline, Population, ServiceAccount } from "./population.js";
import type { Random } from "./random.js";
import { type HumanCall, humanRequest, machineRequest, type Place } from "./requests.js";
import { atLocalHour, DAY, HOUR, localWeekday, MINUTE } from "./time.js";
import { CITIES, type City, CLIENTS, HOSTING, type Network, networksIn } from "./world.js";

export function addressIn(net: Network, a: number, b: number, c: number): string {
  return `${net.base[0]}.${(net.base[1] + (a % 32)) & 255}.${b & 255}.${Math.max(2, c & 255)}`;
}

interface PersonState {
  trip?: { city: City; network: Network; until: number };
  devices: Device[];
}

const legit = (p: Person) => ({ actor: "legitimate" as const, human: true, identity: `user:${p.id}` });

/** One person's day. */
function personDay(rng: Random, p: Person, st: PersonState, dayStart: number, day: number, out: SimEvent[]): void {
  const week = Math.floor(day / 7);
  if (day % 7 === 0) {
    if (!st.trip && rng.chance(0.04)) {
      const city = rng.pick(CITIES.filter((c) => c.name !== p.home.name));
      const nets = networksIn(city.country, "residential");
      st.trip = { city, network: rng.pick(nets), until: dayStart + rng.int(2, 4) * DAY };
    }
    if (rng.chance(0.03)) {
      const phone: Device = {
        id: `dev-${rng.hex(6)}`,
        client: rng.pick(CLIENTS.filter((c) => c.kind === "mobile")),
        managed: false,
      };
      st.devices = [...st.devices.filter((d) => d.client.kind !== "mobile"), phone];
    }
  }
  if (st.trip && st.trip.until <= dayStart) st.trip = undefined;
  const city = st.trip?.city ?? p.home;
  const weekday = localWeekday(dayStart, city.utcOffset);
  const workday = weekday >= 1 && weekday <= 5;
  let logins = 0;
  if (workday) {
    logins = Math.floor(p.loginsPerDay) + (rng.chance(p.loginsPerDay % 1) ? 1 : 0);
  } else if (rng.chance(0.08 * p.loginsPerDay)) {
    logins = 1;
  }
  for (let i = 0; i < logins; i++) {
    const hour = p.hours[0] + rng.next() * (p.hours[1] - p.hours[0]);
    const at = atLocalHour(dayStart, city.utcOffset, hour);
    const device = rng.chance(0.7) ? (st.devices[0] as Device) : (rng.pick(st.devices) as Device);
    let place: Place;
    if (st.trip) {
      place = { city, ip: addressIn(st.trip.network, p.host[0] + 7, p.host[1], rng.int(2, 250)) };
    } else if (p.usesVpn && rng.chance(0.3)) {
      const exit = HOSTING.find((h) => h.country === p.home.country) ?? (HOSTING[0] as Network);
      place = { city, ip: addressIn(exit, 3, 17, rng.int(2, 250)) };
    } else if (device.client.kind === "mobile" && rng.chance(0.5)) {
      place = { city, ip: addressIn(p.mobileNetwork, p.host[0], rng.int(0, 255), rng.int(2, 250)) };
    } else {
      place = { city, ip: addressIn(p.network, p.host[0], p.host[1], 10 + (week % 200)) };
    }
    session(rng, p, device, place, at, out);
  }
}

export function session(
  rng: Random,
  p: Person,
  device: Device,
  place: Place,
  at: number,
  out: SimEvent[],
  requests?: number,
): void {
  const base = { userId: p.id, place, ua: device.client.ua, device: { id: device.id, managed: device.managed } };
  const label = legit(p);
  if (rng.chance(0.04)) {
    out.push({
      at: at - 30_000,
      request: humanRequest({ ...base, at: at - 30_000, action: "login", authn: { result: "failure" } }),
      label,
    });
  }
  const sess = { id: `s-${rng.hex(8)}`, authTime: at, jti: `t-${rng.hex(8)}` };
  out.push({
    at,
    request: humanRequest({ ...base, at, action: "login", authn: { result: "success", mfa_result: "approved" } }),
    label,
  });
  const n = requests ?? rng.int(2, 8);
  let t = at;
  for (let k = 0; k < n; k++) {
    t += rng.int(1, 12) * MINUTE;
    const call: HumanCall =
      p.privileged && rng.chance(0.08)
        ? {
            ...base,
            at: t,
            session: sess,
            action: "admin.users.update",
            actionProperties: { privileged: true },
            resource: { type: "admin", id: "admin-console", properties: { sensitivity: "high" } },
          }
        : {
            ...base,
            at: t,
            session: sess,
            action: rng.chance(0.8) ? "read" : "write",
            resource: {
              type: "document",
              id: rng.pick(p.resources),
              properties: { sensitivity: rng.chance(0.8) ? "low" : "medium" },
            },
          };
    out.push({ at: t, request: humanRequest(call), label });
  }
}

function serviceDay(rng: Random, s: ServiceAccount, dayStart: number, out: SimEvent[]): void {
  const label = { actor: "legitimate" as const, human: false, identity: `service:${s.id}` };
  for (let h = 0; h < 24; h++) {
    const factor = s.diurnal ? 0.3 + 0.7 * Math.max(0, Math.sin(((h - 6) / 24) * 2 * Math.PI)) : 1;
    const calls = Math.round(s.rate * 60 * factor);
    const iat = dayStart + h * HOUR;
    const jti = `sa-${s.id}-${Math.floor(iat / HOUR)}`;
    for (let k = 0; k < calls; k++) {
      const at = iat + Math.floor(((k + rng.next()) / Math.max(1, calls)) * HOUR);
      out.push({
        at,
        request: machineRequest({
          at,
          type: "service",
          id: s.id,
          action: rng.pick(s.actions),
          resource: { type: "dataset", id: `ds-${s.id}`, properties: { sensitivity: "medium" } },
          ip: s.ip,
          token: { jti, iat, scope: "data.read" },
          workload: { spiffe_id: s.spiffe, network_segment: s.segment, attested: true },
        }),
        label,
      });
    }
  }
}

function pipelineDay(rng: Random, p: Pipeline, dayStart: number, out: SimEvent[]): void {
  const weekday = localWeekday(dayStart, 0);
  if (weekday === 0 || weekday === 6) return;
  const label = { actor: "legitimate" as const, human: false, identity: `ci_job:${p.id}` };
  for (let r = 0; r < p.runsPerDay; r++) {
    const at = dayStart + Math.floor((8 + rng.next() * 10) * HOUR);
    const runner = rng.pick(p.runners);
    const jti = `ci-${rng.hex(8)}`;
    const workload = { runner_id: runner, network_segment: p.segment, attested: true };
    const ip = `10.200.${p.runners.indexOf(runner)}.${10 + Number(p.id.split("-")[1] ?? 0)}`;
    out.push({
      at,
      request: machineRequest({
        at,
        type: "ci_job",
        id: p.id,
        action: "secrets.read",
        resource: { type: "secret", id: `${p.id}/deploy-key`, properties: { sensitivity: "high" } },
        ip,
        token: { jti, iat: at },
        workload,
      }),
      label,
    });
    out.push({
      at: at + 4 * MINUTE,
      request: machineRequest({
        at: at + 4 * MINUTE,
        type: "ci_job",
        id: p.id,
        action: "artifacts.write",
        resource: { type: "artifact", id: `${p.id}/build` },
        ip,
        token: { jti, iat: at },
        workload,
      }),
      label,
    });
  }
}

function agentDay(rng: Random, a: Agent, owner: Person | undefined, dayStart: number, out: SimEvent[]): void {
  const offset = owner?.home.utcOffset ?? 0;
  const weekday = localWeekday(dayStart, offset);
  if (weekday === 0 || weekday === 6) return;
  const label = { actor: "legitimate" as const, human: false, identity: `agent:${a.id}` };
  const start = owner?.hours[0] ?? 9;
  for (let k = 0; k < a.callsPerDay; k++) {
    const at = atLocalHour(dayStart, offset, start + rng.next() * 8);
    // Agents hold short-lived tokens, re-issued every hour.
    const iat = Math.floor(at / HOUR) * HOUR;
    const jti = `ag-${a.id}-${Math.floor(iat / HOUR)}`;
    const tool = rng.pick(a.tools);
    out.push({
      at,
      request: machineRequest({
        at,
        type: "agent",
        id: a.id,
        action: tool,
        resource: { type: "tool", id: tool, properties: { on_behalf_of: a.owner } },
        ip: "10.50.0.20",
        token: { jti, iat },
        workload: { spiffe_id: `spiffe://corp.example/agents/${a.id}`, network_segment: "agents", attested: true },
      }),
      label,
    });
  }
}

/** All legitimate traffic for `days` days from `start` (UTC midnight). */
export function legitimateTraffic(rng: Random, pop: Population, start: number, days: number): SimEvent[] {
  const out: SimEvent[] = [];
  const states = new Map<string, PersonState>(pop.people.map((p) => [p.id, { devices: [...p.devices] }]));
  const byId = new Map(pop.people.map((p) => [p.id, p]));
  for (let d = 0; d < days; d++) {
    const dayStart = start + d * DAY;
    for (const p of pop.people)
      personDay(rng.fork(`${p.id}/${d}`), p, states.get(p.id) as PersonState, dayStart, d, out);
    for (const s of pop.services) serviceDay(rng.fork(`${s.id}/${d}`), s, dayStart, out);
    for (const p of pop.pipelines) pipelineDay(rng.fork(`${p.id}/${d}`), p, dayStart, out);
    for (const a of pop.agents) agentDay(rng.fork(`${a.id}/${d}`), a, byId.get(a.owner), dayStart, out);
  }
  return out;
}
