/** Builds apps over a real engine (in-memory state and audit) for the server tests. */

import { resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { MemoryAuditTrail } from "../../src/audit/memory.js";
import type { AuditTrail } from "../../src/audit/port.js";
import { DEFAULT_CONFIG, type ServeConfig } from "../../src/config/serve-config.js";
import { createEngine } from "../../src/engine/create-engine.js";
import type { Engine } from "../../src/engine/engine.js";
import { PEP_ONLY_ENRICHER } from "../../src/enrich/enrichment.js";
import { loadPolicy } from "../../src/policy/load.js";
import { gatewayFaces } from "../../src/runtime/gateway-faces.js";
import { buildApp } from "../../src/server/app.js";
import { ObserverHub, type Runtime, runtimeOf } from "../../src/server/runtime.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import type { StateStore } from "../../src/state/port.js";

export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");
export const CERTIFICATION_POLICY = resolve(REPO_ROOT, "examples/authzen-certification/policy.yaml");

export function testConfig(overrides: Partial<ServeConfig> = {}): ServeConfig {
  return { ...DEFAULT_CONFIG, enrichment: "pep", logLevel: "silent", ...overrides };
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
  readonly engine: Engine;
  close(): Promise<void>;
}

export interface TestAppOptions {
  readonly config?: Partial<ServeConfig>;
  readonly policyFile?: string;
  readonly audit?: AuditTrail;
  /** Wraps the engine, e.g. to make one call fail. */
  readonly wrap?: (engine: Engine) => Engine;
  /** Register the Envoy and NGINX gateway faces too. */
  readonly gateways?: boolean;
  /** The state store (default: a new memory store); the caller closes it. */
  readonly state?: StateStore;
}

export async function testApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = testConfig(options.config);
  const hub = new ObserverHub();
  const policy = await loadPolicy(options.policyFile ?? CERTIFICATION_POLICY);
  const real = createEngine({
    policy,
    state: options.state ?? new MemoryStateStore(),
    audit: options.audit ?? new MemoryAuditTrail(),
    enricher: PEP_ONLY_ENRICHER,
    observer: hub,
  });
  const engine = options.wrap ? options.wrap(real) : real;
  const runtime = runtimeOf(engine, hub);
  const plugins = options.gateways ? gatewayFaces(runtime, config) : [];
  const app = buildApp({ runtime, config, logger: false, processMetrics: false, plugins });
  await app.ready();
  return {
    app,
    runtime,
    engine,
    async close() {
      await app.close();
      await runtime.close();
    },
  };
}

export const ALICE_READ = {
  subject: { type: "user", id: "alice" },
  action: { name: "read" },
  resource: { type: "record", id: "record-1" },
};

export const BOB_WRITE = {
  subject: { type: "user", id: "bob" },
  action: { name: "write" },
  resource: { type: "record", id: "record-1" },
};
