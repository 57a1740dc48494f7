/** The simulated population: people with homes and habits, service accounts, CI pipelines and AI agents. */

import type { Random } from "./random.js";
import { CITIES, type City, CLIENTS, type Client, type Network, networksIn } from "./world.js";

export interface Device {
  readonly id: string;
  readonly client: Client;
  readonly managed: boolean;
}

export interface Person {
  readonly id: string;
  readonly home: City;
  readonly network: Network;
  readonly mobileNetwork: Network;
  /** Last two octets of the home address. */
  readonly host: readonly [number, number];
  readonly devices: Device[];
  /** Local working hours [start, end). */
  readonly hours: readonly [number, number];
  /** Expected logins per working day (Wiefling et al.: risk-based authentication depends on login frequency). */
  readonly loginsPerDay: number;
  readonly privileged: boolean;
  readonly usesVpn: boolean;
  readonly resources: readonly string[];
}

export interface ServiceAccount {
  readonly id: string;
  readonly spiffe: string;
  readonly segment: string;
  readonly ip: string;
  /** Calls per minute at the busiest hour. */
  readonly rate: number;
  readonly diurnal: boolean;
  readonly actions: readonly string[];
}

export interface Pipeline {
  readonly id: string;
  readonly runners: readonly string[];
  readonly segment: string;
  readonly runsPerDay: number;
}

export interface Agent {
  readonly id: string;
  readonly owner: string;
  readonly tools: readonly string[];
  readonly callsPerDay: number;
}

export interface Population {
  readonly people: Person[];
  readonly services: ServiceAccount[];
  readonly pipelines: Pipeline[];
  readonly agents: Agent[];
}

export interface PopulationSize {
  people: number;
  services: number;
  pipelines: number;
  agents: number;
}

function device(rng: Random, kind: "desktop" | "mobile"): Device {
  const clients = CLIENTS.filter((c) => c.kind === kind);
  return {
    id: `dev-${rng.hex(6)}`,
    client: rng.pick(clients),
    managed: kind === "desktop" ? rng.chance(0.8) : rng.chance(0.3),
  };
}

export function makePopulation(rng: Random, size: PopulationSize): Population {
  const people: Person[] = [];
  for (let i = 0; i < size.people; i++) {
    const r = rng.fork(`person-${i}`);
    const home = r.pick(CITIES);
    const start = r.int(7, 10);
    const devices = [device(r, "desktop")];
    if (r.chance(0.7)) devices.push(device(r, "mobile"));
    const resources = Array.from({ length: r.int(5, 15) }, (_, k) => `doc-${(i * 7 + k * 13) % 400}`);
    people.push({
      id: `user${String(i).padStart(4, "0")}`,
      home,
      network: r.pick(networksIn(home.country, "residential")),
      mobileNetwork: r.pick(
        networksIn(home.country, "mobile").length > 0 ? networksIn(home.country, "mobile") : networksIn(home.country),
      ),
      host: [r.int(0, 63), r.int(1, 254)],
      devices,
      hours: [start, start + r.int(7, 10)],
      loginsPerDay: r.pick([0.3, 1, 1, 2, 3]),
      privileged: r.chance(0.15),
      usesVpn: r.chance(0.05),
      resources,
    });
  }
  const services: ServiceAccount[] = [];
  for (let i = 0; i < size.services; i++) {
    const r = rng.fork(`service-${i}`);
    const seg = `prod-${r.pick(["a", "b", "c"])}`;
    services.push({
      id: `svc-${String(i).padStart(3, "0")}`,
      spiffe: `spiffe://corp.example/ns/${seg}/sa/svc-${i}`,
      segment: seg,
      ip: `10.${10 + i}.${r.int(0, 3)}.${r.int(2, 250)}`,
      rate: r.pick([0.1, 0.25, 0.5, 1]),
      diurnal: r.chance(0.5),
      actions: r.chance(0.5) ? ["read", "write"] : ["read"],
    });
  }
  const pipelines: Pipeline[] = [];
  for (let i = 0; i < size.pipelines; i++) {
    const r = rng.fork(`pipeline-${i}`);
    pipelines.push({
      id: `pipeline-${i}`,
      runners: Array.from({ length: r.int(2, 4) }, (_, k) => `runner-${i}-${k}`),
      segment: "ci",
      runsPerDay: r.int(3, 12),
    });
  }
  const agents: Agent[] = [];
  for (let i = 0; i < size.agents; i++) {
    const r = rng.fork(`agent-${i}`);
    agents.push({
      id: `agent-${i}`,
      owner: people.length > 0 ? r.pick(people).id : "nobody",
      tools: r.pick([
        ["tool.search", "tool.calendar.read"],
        ["tool.search", "tool.docs.read", "tool.docs.write"],
        ["tool.tickets.read", "tool.tickets.write"],
      ]),
      callsPerDay: r.int(20, 80),
    });
  }
  return { people, services, pipelines, agents };
}
