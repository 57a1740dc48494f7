/**
 * Attack incidents, labelled. The classes follow the risk-based authentication literature (naive,
 * VPN and targeted account takeover as in Wiefling et al.) plus session, token and machine-identity
 * abuse. Each incident marks its damaging request: it is caught only if diverted at or before it.
 */

import type { AttackScenario, SimEvent, SimLabel } from "./event.js";
import { addressIn, session } from "./legitimate.js";
import type { Person, Population } from "./population.js";
import type { Random } from "./random.js";
import { humanRequest, machineRequest } from "./requests.js";
import { atLocalHour, HOUR, MINUTE } from "./time.js";
import { ATTACK_TOOL_UA, CLIENTS, FAR_CITIES, HOSTING, NETWORKS, type Network, networksIn } from "./world.js";

type Gen = (rng: Random, pop: Population, day: number, incident: string) => SimEvent[];

function attacker(
  p: { id: string },
  incident: string,
  scenario: AttackScenario,
  human: boolean,
  damaging = false,
  type = "user",
): SimLabel {
  return { actor: "attacker", incident, scenario, damaging, human, identity: `${type}:${p.id}` };
}

function workHour(rng: Random, p: Person, day: number): number {
  return atLocalHour(day, p.home.utcOffset, p.hours[0] + 1 + rng.next() * 5);
}

const pickPerson = (rng: Random, pop: Population, pred: (p: Person) => boolean = () => true): Person =>
  rng.pick(pop.people.filter(pred).length > 0 ? pop.people.filter(pred) : pop.people);

/** Stolen password used from far away, new device, scripted client. */
const atoNaive: Gen = (rng, pop, day, incident) => {
  const v = pickPerson(rng, pop);
  const city = rng.pick(FAR_CITIES);
  const net = rng.pick(NETWORKS.filter((n) => n.country === city.country));
  const at = day + rng.int(0, 23) * HOUR;
  const place = { city, ip: addressIn(net, rng.int(0, 31), rng.int(0, 255), rng.int(2, 250)) };
  const device = { id: `dev-${rng.hex(6)}`, managed: false };
  const ua = rng.chance(0.5) ? ATTACK_TOOL_UA : rng.pick(CLIENTS).ua;
  const sess = { id: `s-${rng.hex(8)}`, authTime: at, jti: `t-${rng.hex(8)}` };
  return [
    {
      at,
      request: humanRequest({ at, userId: v.id, action: "login", place, ua, device, authn: { result: "success" } }),
      label: attacker(v, incident, "ato_naive", true, true),
    },
    ...[1, 2, 3].map((k) => {
      const t = at + k * MINUTE;
      return {
        at: t,
        request: humanRequest({
          at: t,
          userId: v.id,
          action: "read",
          place,
          ua,
          device,
          session: sess,
          resource: { type: "document", id: rng.pick(v.resources), properties: { sensitivity: "medium" } },
        }),
        label: attacker(v, incident, "ato_naive", true),
      };
    }),
  ];
};

/** Stolen password through a VPN exit in the victim's own country, common browser. */
const atoVpn: Gen = (rng, pop, day, incident) => {
  const v = pickPerson(rng, pop);
  const exit = HOSTING.find((h) => h.country === v.home.country) ?? rng.pick(HOSTING);
  const at = workHour(rng, v, day);
  const place = { city: v.home, ip: addressIn(exit, rng.int(0, 31), rng.int(0, 255), rng.int(2, 250)) };
  const device = { id: `dev-${rng.hex(6)}`, managed: false };
  const ua = rng.pick(CLIENTS.filter((c) => c.kind === "desktop")).ua;
  return [
    {
      at,
      request: humanRequest({ at, userId: v.id, action: "login", place, ua, device, authn: { result: "success" } }),
      label: attacker(v, incident, "ato_vpn", true, true),
    },
  ];
};

/** A targeted attacker who knows the victim's city, ISP country and browser, but not their device or address. */
const atoTargeted: Gen = (rng, pop, day, incident) => {
  const v = pickPerson(rng, pop);
  const others = networksIn(v.home.country, "residential").filter((n) => n.name !== v.network.name);
  const net: Network = others.length > 0 ? rng.pick(others) : v.network;
  const at = workHour(rng, v, day);
  const place = { city: v.home, ip: addressIn(net, rng.int(0, 31), rng.int(0, 255), rng.int(2, 250)) };
  const ua = (v.devices[0] ?? { client: rng.pick(CLIENTS) }).client.ua;
  const device = { id: `dev-${rng.hex(6)}`, managed: false };
  return [
    {
      at,
      request: humanRequest({ at, userId: v.id, action: "login", place, ua, device, authn: { result: "success" } }),
      label: attacker(v, incident, "ato_targeted", true, true),
    },
  ];
};

/** The victim works from home; half an hour later "they" sign in from another continent with a copied device id. */
const impossibleTravel: Gen = (rng, pop, day, incident) => {
  const v = pickPerson(rng, pop);
  const at = workHour(rng, v, day);
  const home = { city: v.home, ip: addressIn(v.network, v.host[0], v.host[1], 10) };
  const dev = v.devices[0] as Person["devices"][number];
  const out: SimEvent[] = [];
  session(rng, v, dev, home, at, out, 1);
  const city = rng.pick(FAR_CITIES);
  const net = rng.pick(NETWORKS.filter((n) => n.country === city.country));
  const t = at + 30 * MINUTE;
  out.push({
    at: t,
    request: humanRequest({
      at: t,
      userId: v.id,
      action: "login",
      place: { city, ip: addressIn(net, 1, rng.int(0, 255), rng.int(2, 250)) },
      ua: dev.client.ua,
      device: { id: dev.id, managed: dev.managed },
      authn: { result: "success" },
    }),
    label: attacker(v, incident, "impossible_travel", true, true),
  });
  return out;
};

/** Many usernames from one hosting address, almost all failing; the few successes are the damage. */
const credentialStuffing: Gen = (rng, pop, day, incident) => {
  const start = day + rng.int(0, 20) * HOUR;
  const exit = rng.pick(HOSTING);
  const ip = addressIn(exit, rng.int(0, 31), rng.int(0, 255), rng.int(2, 250));
  const out: SimEvent[] = [];
  for (let k = 0; k < 80; k++) {
    const at = start + k * 15_000;
    const real = rng.chance(0.5) ? pickPerson(rng, pop) : undefined;
    const id = real ? real.id : `ghost-${rng.hex(3)}`;
    const success = real !== undefined && k > 20 && rng.chance(0.06);
    out.push({
      at,
      request: humanRequest({
        at,
        userId: id,
        action: "login",
        place: { city: rng.pick(FAR_CITIES), ip },
        ua: ATTACK_TOOL_UA,
        device: { id: `dev-${rng.hex(6)}`, managed: false },
        authn: { result: success ? "success" : "failure" },
      }),
      label: attacker({ id }, incident, "credential_stuffing", true, success),
    });
  }
  if (!out.some((e) => e.label.damaging)) {
    const v = pickPerson(rng, pop);
    const at = start + 81 * 15_000;
    out.push({
      at,
      request: humanRequest({
        at,
        userId: v.id,
        action: "login",
        place: { city: rng.pick(FAR_CITIES), ip },
        ua: ATTACK_TOOL_UA,
        device: { id: `dev-${rng.hex(6)}`, managed: false },
        authn: { result: "success" },
      }),
      label: attacker(v, incident, "credential_stuffing", true, true),
    });
  }
  return out;
};

/** One common password tried once against every account, slowly, from a residential address. */
const passwordSpray: Gen = (rng, pop, day, incident) => {
  const start = day + rng.int(0, 20) * HOUR;
  const city = rng.pick(FAR_CITIES);
  const net = rng.pick(NETWORKS.filter((n) => n.country === city.country));
  const ip = addressIn(net, rng.int(0, 31), rng.int(0, 255), rng.int(2, 250));
  const targets = pop.people.slice(0, Math.min(60, pop.people.length));
  // The spray succeeds once, late enough that the source is already visibly spraying.
  const lucky = targets.length > 16 ? rng.int(15, targets.length - 1) : targets.length - 1;
  return targets.map((v, k) => {
    const at = start + k * 40_000;
    const success = k === lucky;
    return {
      at,
      request: humanRequest({
        at,
        userId: v.id,
        action: "login",
        place: { city, ip },
        ua: rng.pick(CLIENTS).ua,
        device: { id: `dev-${rng.hex(6)}`, managed: false },
        authn: { result: success ? "success" : "failure" },
      }),
      label: attacker(v, incident, "password_spray", true, success),
    };
  });
};

/** The attacker has the password and pushes MFA prompts until the tired user approves one. */
const mfaFatigue: Gen = (rng, pop, day, incident) => {
  const v = pickPerson(rng, pop);
  const at = workHour(rng, v, day);
  const place = { city: v.home, ip: addressIn(rng.pick(HOSTING), 2, rng.int(0, 255), rng.int(2, 250)) };
  const device = { id: `dev-${rng.hex(6)}`, managed: false };
  const ua = rng.pick(CLIENTS).ua;
  const out: SimEvent[] = [];
  for (let k = 0; k < 8; k++) {
    const t = at + k * 2 * MINUTE;
    out.push({
      at: t,
      request: humanRequest({
        at: t,
        userId: v.id,
        action: "login",
        place,
        ua,
        device,
        authn: { result: "success", mfa_result: rng.chance(0.5) ? "denied" : "timeout" },
      }),
      label: attacker(v, incident, "mfa_fatigue", true),
    });
  }
  const t = at + 16 * MINUTE;
  out.push({
    at: t,
    request: humanRequest({
      at: t,
      userId: v.id,
      action: "login",
      place,
      ua,
      device,
      authn: { result: "success", mfa_result: "approved" },
    }),
    label: attacker(v, incident, "mfa_fatigue", true, true),
  });
  return out;
};

/** A stolen session cookie and token replayed from another device and network. */
const sessionReplay: Gen = (rng, pop, day, incident) => {
  const v = pickPerson(rng, pop);
  const at = workHour(rng, v, day);
  const dev = v.devices[0] as Person["devices"][number];
  const home = { city: v.home, ip: addressIn(v.network, v.host[0], v.host[1], 10) };
  const sess = { id: `s-${rng.hex(8)}`, authTime: at, jti: `t-${rng.hex(8)}` };
  const base = { userId: v.id, ua: dev.client.ua };
  const t1 = at + 5 * MINUTE;
  const t2 = at + 25 * MINUTE;
  const thief = { city: v.home, ip: addressIn(rng.pick(HOSTING), 4, rng.int(0, 255), rng.int(2, 250)) };
  return [
    {
      at,
      request: humanRequest({
        ...base,
        at,
        action: "login",
        place: home,
        device: { id: dev.id, managed: dev.managed },
        authn: { result: "success" },
      }),
      label: { actor: "legitimate", human: true, identity: `user:${v.id}` },
    },
    {
      at: t1,
      request: humanRequest({
        ...base,
        at: t1,
        action: "read",
        place: home,
        device: { id: dev.id, managed: dev.managed },
        session: sess,
        resource: { type: "document", id: rng.pick(v.resources), properties: { sensitivity: "low" } },
      }),
      label: { actor: "legitimate", human: true, identity: `user:${v.id}` },
    },
    {
      at: t2,
      request: humanRequest({
        ...base,
        at: t2,
        action: "read",
        place: thief,
        device: { id: `dev-${rng.hex(6)}`, managed: false },
        session: sess,
        resource: { type: "document", id: rng.pick(v.resources), properties: { sensitivity: "medium" } },
      }),
      label: attacker(v, incident, "session_replay", true, true),
    },
  ];
};

/** A standard user's session suddenly performs an administrative action it never performed. */
const privilegeEscalation: Gen = (rng, pop, day, incident) => {
  const v = pickPerson(rng, pop, (p) => !p.privileged);
  const at = workHour(rng, v, day);
  const dev = v.devices[0] as Person["devices"][number];
  const place = { city: v.home, ip: addressIn(v.network, v.host[0], v.host[1], 10) };
  const sess = { id: `s-${rng.hex(8)}`, authTime: at - 10 * MINUTE, jti: `t-${rng.hex(8)}` };
  return [
    {
      at,
      request: humanRequest({
        at,
        userId: v.id,
        action: "admin.users.update",
        actionProperties: { privileged: true },
        resource: { type: "admin", id: "admin-console", properties: { sensitivity: "high" } },
        place,
        ua: dev.client.ua,
        device: { id: dev.id, managed: dev.managed },
        session: sess,
      }),
      label: attacker(v, incident, "privilege_escalation", true, true),
    },
  ];
};

const pickService = (rng: Random, pop: Population) => rng.pick(pop.services);

/** A service account's live token used from a network segment it never calls from. */
const serviceTokenNewSegment: Gen = (rng, pop, day, incident) => {
  const s = pickService(rng, pop);
  const at = day + rng.int(0, 23) * HOUR + rng.int(0, 59) * MINUTE;
  const iat = Math.floor(at / HOUR) * HOUR;
  return [
    {
      at,
      request: machineRequest({
        at,
        type: "service",
        id: s.id,
        action: "read",
        resource: { type: "dataset", id: `ds-${s.id}`, properties: { sensitivity: "medium" } },
        ip: `203.0.113.${rng.int(2, 250)}`,
        token: { jti: `sa-${s.id}-${Math.floor(iat / HOUR)}`, iat },
        workload: { network_segment: "external" },
      }),
      label: attacker(s, incident, "service_token_new_segment", false, true, "service"),
    },
  ];
};

/** One workload's token presented by another workload. */
const tokenReplayAcrossWorkloads: Gen = (rng, pop, day, incident) => {
  const s = pickService(rng, pop);
  const other = rng.pick(
    pop.services.filter((x) => x.id !== s.id).length > 0 ? pop.services.filter((x) => x.id !== s.id) : pop.services,
  );
  const at = day + rng.int(0, 23) * HOUR + rng.int(1, 58) * MINUTE;
  const iat = Math.floor(at / HOUR) * HOUR;
  return [
    {
      at,
      request: machineRequest({
        at,
        type: "service",
        id: s.id,
        action: "read",
        resource: { type: "dataset", id: `ds-${s.id}`, properties: { sensitivity: "medium" } },
        ip: other.ip,
        token: { jti: `sa-${s.id}-${Math.floor(iat / HOUR)}`, iat },
        workload: { spiffe_id: other.spiffe, network_segment: other.segment, attested: true },
      }),
      label: attacker(s, incident, "token_replay_across_workloads", false, true, "service"),
    },
  ];
};

/** An unregistered, unattested runner of a real pipeline pulls the deploy secret at night. */
const rogueCiRunner: Gen = (rng, pop, day, incident) => {
  const p = rng.pick(pop.pipelines);
  const at = Math.round(day + (2 + rng.next() * 2) * HOUR);
  return [
    {
      at,
      request: machineRequest({
        at,
        type: "ci_job",
        id: p.id,
        action: "secrets.read",
        resource: { type: "secret", id: `${p.id}/deploy-key`, properties: { sensitivity: "high" } },
        ip: `10.201.9.${rng.int(2, 250)}`,
        token: { jti: `ci-${rng.hex(8)}`, iat: at },
        workload: { runner_id: `runner-unknown-${rng.hex(2)}`, network_segment: "ci", attested: false },
      }),
      label: attacker(p, incident, "rogue_ci_runner", false, true, "ci_job"),
    },
  ];
};

/** A service account suddenly reads at a hundred times its usual rate. */
const exfiltrationSpike: Gen = (rng, pop, day, incident) => {
  const s = pickService(rng, pop);
  const start = day + rng.int(1, 22) * HOUR + 30 * MINUTE;
  const iat = Math.floor(start / HOUR) * HOUR;
  const out: SimEvent[] = [];
  for (let k = 0; k < 120; k++) {
    const at = start + k * 500;
    out.push({
      at,
      request: machineRequest({
        at,
        type: "service",
        id: s.id,
        action: "read",
        resource: { type: "dataset", id: `ds-${s.id}`, properties: { sensitivity: "medium" } },
        ip: s.ip,
        token: { jti: `sa-${s.id}-${Math.floor(iat / HOUR)}`, iat },
        workload: { spiffe_id: s.spiffe, network_segment: s.segment, attested: true },
      }),
      label: attacker(s, incident, "exfiltration_rate_spike", false, k === 40, "service"),
    });
  }
  return out;
};

/** A session touches many documents it never touched, fast. */
const lateralMovement: Gen = (rng, pop, day, incident) => {
  const v = pickPerson(rng, pop);
  const at = workHour(rng, v, day);
  const dev = v.devices[0] as Person["devices"][number];
  const place = { city: v.home, ip: addressIn(v.network, v.host[0], v.host[1], 10) };
  const sess = { id: `s-${rng.hex(8)}`, authTime: at - 5 * MINUTE, jti: `t-${rng.hex(8)}` };
  const out: SimEvent[] = [];
  for (let k = 0; k < 30; k++) {
    const t = at + k * 15_000;
    out.push({
      at: t,
      request: humanRequest({
        at: t,
        userId: v.id,
        action: "read",
        resource: { type: "document", id: `doc-x${rng.hex(3)}-${k}`, properties: { sensitivity: "medium" } },
        place,
        ua: dev.client.ua,
        device: { id: dev.id, managed: dev.managed },
        session: sess,
      }),
      label: attacker(v, incident, "lateral_movement", true, k === 14),
    });
  }
  return out;
};

/** An agent calls a tool outside everything it has ever been seen to do. */
const agentOutOfScope: Gen = (rng, pop, day, incident) => {
  const a = rng.pick(pop.agents);
  const at = day + rng.int(9, 16) * HOUR;
  const tool = rng.pick(["tool.payments.transfer", "tool.admin.delete_user", "tool.secrets.read"]);
  return [
    {
      at,
      request: machineRequest({
        at,
        type: "agent",
        id: a.id,
        action: tool,
        resource: { type: "tool", id: tool, properties: { on_behalf_of: a.owner } },
        ip: "10.50.0.20",
        token: { jti: `ag-${a.id}-${Math.floor(at / HOUR)}`, iat: Math.floor(at / HOUR) * HOUR },
        workload: { spiffe_id: `spiffe://corp.example/agents/${a.id}`, network_segment: "agents", attested: true },
      }),
      label: attacker(a, incident, "agent_out_of_scope", false, true, "agent"),
    },
  ];
};

export const ATTACKS: Readonly<Record<AttackScenario, Gen>> = {
  ato_naive: atoNaive,
  ato_vpn: atoVpn,
  ato_targeted: atoTargeted,
  impossible_travel: impossibleTravel,
  credential_stuffing: credentialStuffing,
  password_spray: passwordSpray,
  mfa_fatigue: mfaFatigue,
  session_replay: sessionReplay,
  privilege_escalation: privilegeEscalation,
  service_token_new_segment: serviceTokenNewSegment,
  token_replay_across_workloads: tokenReplayAcrossWorkloads,
  rogue_ci_runner: rogueCiRunner,
  exfiltration_rate_spike: exfiltrationSpike,
  lateral_movement: lateralMovement,
  agent_out_of_scope: agentOutOfScope,
};

/** Scenarios whose attacker keeps going after one attempt is diverted (each damaging request counts). */
export const PERSISTENT: ReadonlySet<AttackScenario> = new Set(["credential_stuffing", "password_spray"]);
