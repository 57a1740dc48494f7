/** Runs one detector the way the engine does (plan → read → detect → update), for detector unit tests. */

import type { Detector, DetectorContext, DetectorParams } from "../../src/detectors/detector.js";
import { collectUpdates, detect, planState } from "../../src/detectors/run-detectors.js";
import { viewOf } from "../../src/detectors/state-plan.js";
import type { Enrichment } from "../../src/enrich/enrichment.js";
import type { Finding } from "../../src/model/finding.js";
import { type AccessRequest, identityKey, identityKindOf } from "../../src/model/request.js";
import type { StateStore, StateUpdate } from "../../src/state/port.js";

export interface HarnessStep {
  request: AccessRequest;
  now: number;
  enrichment?: Enrichment;
  params?: DetectorParams;
  /** Whether learn-updates are applied (a trusted decision). Default true. */
  trusted?: boolean;
}

export interface HarnessResult {
  finding: Finding | undefined;
  observe: StateUpdate[];
  learn: StateUpdate[];
  applies: boolean;
}

export function contextFor(detector: Detector, step: HarnessStep): DetectorContext {
  return {
    request: step.request,
    subjectKey: identityKey(step.request.subject),
    kind: identityKindOf(step.request.subject.type),
    enrichment: step.enrichment ?? {},
    now: step.now,
    isLogin: step.request.action.name === "login",
    params: { ...detector.defaults, ...(step.params ?? {}) },
  };
}

/** Runs one step and writes its updates to the store (learn-updates only when trusted). */
export async function runStep(detector: Detector, store: StateStore, step: HarnessStep): Promise<HarnessResult> {
  const ctx = contextFor(detector, step);
  if (!detector.applies(ctx)) return { finding: undefined, observe: [], learn: [], applies: false };
  const runs = [{ detector, ctx }];
  const snapshot = await store.read(planState(runs).query(), step.now);
  const view = viewOf(snapshot);
  const { findings } = detect(runs, view);
  const { observe, learn } = collectUpdates(runs, view);
  const toWrite = step.trusted === false ? observe : [...observe, ...learn];
  if (toWrite.length > 0) await store.write(toWrite, step.now);
  return { finding: findings[0], observe, learn, applies: true };
}
