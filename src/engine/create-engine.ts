/**
 * The engine: validate → enrich → pick segment → one state read → detect → score → choose path →
 * obligations → commit state and audit. The steps in between reads and writes are pure
 * (`decide-core.ts`); this file does the I/O around them.
 */

import { performance } from "node:perf_hooks";
import { AUDIT_OFF, type AuditTrail } from "../audit/port.js";
import type { Detector } from "../detectors/detector.js";
import { ALL_DETECTORS } from "../detectors/registry.js";
import { EMPTY_SNAPSHOT, mergeCounter } from "../detectors/state-plan.js";
import { type Enricher, type Enrichment, PEP_ONLY_ENRICHER } from "../enrich/enrichment.js";
import { SignalboxError } from "../errors/signalbox-error.js";
import type { Decision } from "../model/decision.js";
import { contradicts, isOutcome, isTrustedOutcome, type Outcome } from "../model/outcome.js";
import type { AccessRequest } from "../model/request.js";
import { identityKey } from "../model/request.js";
import type { CompiledPolicy } from "../policy/compiled.js";
import { MemoryStateStore } from "../state/memory.js";
import type { PendingDecision, StateQuery, StateSnapshot, StateStore, StateUpdate } from "../state/port.js";
import { type Clock, SYSTEM_CLOCK } from "./clock.js";
import { type Concluded, conclude, type Prepared, prepare } from "./decide-core.js";
import { uuidv7 } from "./decision-id.js";
import type { Engine, EngineOptions } from "./engine.js";
import { eventTimeOf } from "./event-time.js";
import { type PolicyPlan, planPolicy } from "./policy-plan.js";
import { validateRequest } from "./validate-request.js";

export const ENGINE_VERSION = "0.1.0";

const DEFAULT_STATE_TIMEOUT_MS = 50;
const DEFAULT_PENDING_TTL_MS = 24 * 3600 * 1000;

class Timeout extends Error {}

const EMPTY_READ: { snapshot: StateSnapshot } = Object.freeze({ snapshot: EMPTY_SNAPSHOT });

export function createEngine(options: EngineOptions): Engine {
  const detectors: readonly Detector[] = options.detectors ?? ALL_DETECTORS;
  const state: StateStore = options.state ?? new MemoryStateStore();
  const audit: AuditTrail = options.audit ?? AUDIT_OFF;
  const clock: Clock = options.clock ?? SYSTEM_CLOCK;
  const enricher: Enricher = options.enricher ?? PEP_ONLY_ENRICHER;
  const eventTime = options.eventTime ?? "server";
  const stateTimeoutMs = options.stateTimeoutMs ?? DEFAULT_STATE_TIMEOUT_MS;
  const pendingTtlMs = options.pendingTtlMs ?? DEFAULT_PENDING_TTL_MS;
  const observer = options.observer ?? {};
  const engineVersion = options.engineVersion ?? ENGINE_VERSION;

  let plan: PolicyPlan = planPolicy(options.policy, detectors);
  let shadowPlan: PolicyPlan | undefined = options.shadowPolicy
    ? planPolicy(options.shadowPolicy, detectors)
    : undefined;
  // Latest event time seen, so outcomes on a replay are judged on the replay's clock.
  let latestEventTime = 0;

  const nowUs = () => performance.now() * 1000;

  async function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
    if (state.synchronous) return work;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Timeout(`${what} took longer than ${stateTimeoutMs} ms`)), stateTimeoutMs);
    });
    try {
      return await Promise.race([work, limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function readState(query: StateQuery, now: number): Promise<{ snapshot?: StateSnapshot; error?: string }> {
    // Snapshots are read-only to their readers, so every empty read can share one.
    if (query.profiles.length === 0 && query.counters.length === 0 && query.claims.length === 0) return EMPTY_READ;
    try {
      return { snapshot: await withTimeout(state.read(query, now), "state read") };
    } catch (err) {
      const timeout = err instanceof Timeout;
      const message = err instanceof Error ? err.message : String(err);
      observer.onStateError?.(timeout ? "timeout" : "error", message);
      return { error: message };
    }
  }

  /**
   * `claimed`: the read took claims. A store may make a won claim durable through its write stream
   * (the SQLite mirror does), so such a decision writes even with no updates of its own, and is
   * answered only once that write has committed.
   */
  async function writeState(updates: StateUpdate[], now: number, claimed = false): Promise<void> {
    if (updates.length === 0 && !claimed) return;
    try {
      await withTimeout(state.write(updates, now), "state write");
    } catch (err) {
      observer.onStateError?.(
        err instanceof Timeout ? "timeout" : "error",
        err instanceof Error ? err.message : String(err),
      );
    }
  }

  function enrich(request: AccessRequest): Enrichment {
    try {
      return enricher.enrich(request);
    } catch {
      return {};
    }
  }

  function finish(
    prepared: Prepared,
    read: { snapshot?: StateSnapshot; error?: string },
    decisionId: string,
    startedAt: number,
    stateUs: number,
  ): Concluded {
    return conclude({
      prepared,
      snapshot: read.snapshot,
      stateError: read.error,
      decisionId,
      timings: { stateUs, startedAt },
      clockUs: nowUs,
    });
  }

  async function decide(body: unknown): Promise<Decision> {
    const startedAt = nowUs();
    const request = validateRequest(body);
    const now = eventTime === "request" ? eventTimeOf(request) : clock.now();
    if (now > latestEventTime) latestEventTime = now;
    const enrichment = enrich(request);
    const active = plan;
    const shadow = shadowPlan;
    const prepared = prepare(active, request, enrichment, now);
    const shadowPrepared = shadow ? prepare(shadow, request, enrichment, now) : undefined;
    const query = shadowPrepared ? mergeQueries(prepared.query, shadowPrepared.query) : prepared.query;

    const t0 = nowUs();
    const read = await readState(query, now);
    const stateUs = nowUs() - t0;

    const wall = Date.now();
    const result = finish(prepared, read, uuidv7(wall), startedAt, stateUs);
    const { decision } = result;

    const updates = result.commit;
    // Kept until its outcome arrives: a decision that held learning back, or one that asks the sender
    // to answer (step-up, hold). Other decisions are found through the audit trail for outcomes.
    const awaitsOutcome = decision.controlPath === "step_up" || decision.controlPath === "hold";
    if (!result.trusted && (result.heldBack.length > 0 || awaitsOutcome)) {
      const pending: PendingDecision = {
        subject: identityKey(request.subject),
        controlPath: decision.controlPath,
        at: now,
        learn: result.heldBack,
      };
      updates.push({ op: "pending", id: decision.id, record: pending, ttlMs: pendingTtlMs });
    }

    // A store that just failed the read is not waited on again: a decision costs at most one state
    // timeout, and what it would have written (a pending record) is dropped — it learned nothing.
    const work: Promise<unknown>[] = read.snapshot ? [writeState(updates, now, query.claims.length > 0)] : [];
    if (audit.enabled) work.push(audit.recordDecision({ request, decision, wallTime: wall, engineVersion }));

    if (shadowPrepared) {
      const shadowResult = finish(shadowPrepared, read, uuidv7(wall), startedAt, stateUs);
      observer.onShadowDecision?.(decision, shadowResult.decision, request);
      if (audit.enabled) {
        work.push(
          audit.recordDecision({
            request,
            decision: shadowResult.decision,
            wallTime: wall,
            engineVersion,
            shadow: true,
          }),
        );
      }
    }

    try {
      await Promise.all(work);
    } catch (err) {
      if (err instanceof SignalboxError) throw err;
      throw new SignalboxError("AUDIT_UNAVAILABLE", "the decision record could not be committed", { cause: err });
    }
    if (observer.onDetectorError) {
      for (const f of decision.findings)
        if (f.error && f.detector !== "state") observer.onDetectorError(f.detector, decision.segment);
    }
    observer.onDecision?.(decision, request);
    return decision;
  }

  async function recordOutcome(decisionId: string, outcome: unknown): Promise<void> {
    if (!isOutcome(outcome)) {
      throw new SignalboxError("UNKNOWN_OUTCOME", `unknown outcome "${String(outcome)}"`, {
        problems: [{ path: "outcome", message: "must be one of the contract's outcomes" }],
      });
    }
    const now = eventTime === "request" ? latestEventTime : clock.now();
    const pending = await state.getPending(decisionId, now);
    if (pending) {
      if (pending.outcome !== undefined) {
        if (contradicts(pending.outcome, outcome)) throw conflict(decisionId, pending.outcome, outcome);
        return; // the same or a compatible final outcome again: idempotent
      }
      const updates: StateUpdate[] = [];
      if (isTrustedOutcome(outcome)) updates.push(...pending.learn);
      updates.push({
        op: "pending",
        id: decisionId,
        record: { ...pending, learn: [], outcome },
        ttlMs: Math.max(1, pending.at + pendingTtlMs - now),
      });
      await state.write(updates, now);
    } else {
      const audited = await audit.getDecision(decisionId);
      if (!audited) throw new SignalboxError("UNKNOWN_DECISION", `no decision "${decisionId}" is known`);
      const earlier = audited.outcomes.find((o) => contradicts(o.outcome, outcome));
      if (earlier) throw conflict(decisionId, earlier.outcome, outcome);
    }
    if (audit.enabled) await audit.recordOutcome({ decisionId, outcome, wallTime: Date.now() });
    observer.onOutcome?.(outcome, decisionId);
  }

  return {
    decide,
    recordOutcome,
    get policy(): CompiledPolicy {
      return plan.policy;
    },
    setPolicy(policy: CompiledPolicy): void {
      plan = planPolicy(policy, detectors);
    },
    setShadowPolicy(policy: CompiledPolicy | undefined): void {
      shadowPlan = policy ? planPolicy(policy, detectors) : undefined;
    },
    state,
    audit,
    async close(): Promise<void> {
      await Promise.allSettled([state.close(), audit.close()]);
    },
  };
}

function conflict(id: string, earlier: Outcome, later: Outcome): SignalboxError {
  return new SignalboxError(
    "OUTCOME_CONFLICT",
    `outcome "${later}" contradicts the earlier outcome "${earlier}" of decision "${id}"`,
  );
}

/** The union of two queries; claims only from the first, so a shadow policy never claims a token first. */
function mergeQueries(a: StateQuery, b: StateQuery): StateQuery {
  const profiles = new Set([...a.profiles, ...b.profiles]);
  const counters = new Map(a.counters.map((c) => [c.key, c]));
  for (const c of b.counters) {
    const prev = counters.get(c.key);
    counters.set(c.key, prev ? mergeCounter(prev, c) : c);
  }
  return { profiles: [...profiles], counters: [...counters.values()], claims: a.claims };
}
