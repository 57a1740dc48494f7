/** The library entry point: the engine, its ports and adapters, the policy loader and the model. */

export { MemoryAuditTrail } from "./audit/memory.js";
export { openAuditTrail } from "./audit/open-audit.js";
export {
  AUDIT_OFF,
  type AuditedDecision,
  type AuditTrail,
  type DecisionEntry,
  type OutcomeEntry,
} from "./audit/port.js";
export type { Detector, DetectorContext, StateNeeds, StateView, UpdateSink } from "./detectors/detector.js";
export { ALL_DETECTORS, detectorById } from "./detectors/registry.js";
export { type Clock, ManualClock, SYSTEM_CLOCK } from "./engine/clock.js";
export { createEngine, ENGINE_VERSION } from "./engine/create-engine.js";
export type { Engine, EngineObserver, EngineOptions, EventTimeMode } from "./engine/engine.js";
export { createDatabaseEnricher } from "./enrich/database-enricher.js";
export { type Enricher, type Enrichment, PEP_ONLY_ENRICHER } from "./enrich/enrichment.js";
export { ERROR_CODES, type ErrorCode } from "./errors/codes.js";
export { isSignalboxError, SignalboxError } from "./errors/signalbox-error.js";
export * from "./model/index.js";
export type { CompiledPolicy } from "./policy/compiled.js";
export { DEFAULT_POLICY_FILE, loadPolicy } from "./policy/load.js";
export { MemoryStateStore } from "./state/memory.js";
export { openStateStore } from "./state/open-state.js";
export type { StateStore } from "./state/port.js";
