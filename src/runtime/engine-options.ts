/** Assembles the engine's options from the service configuration and the stores the runtime opened. */

import type { AuditTrail } from "../audit/port.js";
import type { ServeConfig } from "../config/serve-config.js";
import type { EngineObserver, EngineOptions } from "../engine/engine.js";
import type { Enricher } from "../enrich/enrichment.js";
import type { CompiledPolicy } from "../policy/compiled.js";
import type { StateStore } from "../state/port.js";

export interface EngineParts {
  readonly policy: CompiledPolicy;
  readonly shadowPolicy: CompiledPolicy | undefined;
  readonly state: StateStore;
  readonly audit: AuditTrail;
  readonly enricher: Enricher;
  readonly observer: EngineObserver;
  readonly engineVersion: string | undefined;
}

export function engineOptionsOf(config: ServeConfig, parts: EngineParts): EngineOptions {
  return {
    policy: parts.policy,
    ...(parts.shadowPolicy ? { shadowPolicy: parts.shadowPolicy } : {}),
    state: parts.state,
    audit: parts.audit,
    enricher: parts.enricher,
    eventTime: config.eventTime,
    stateTimeoutMs: config.stateTimeoutMs,
    observer: parts.observer,
    ...(parts.engineVersion ? { engineVersion: parts.engineVersion } : {}),
  };
}
