/**
 * Replays the LANL fragment (benign sample and red-team lines, in time order) through an engine on
 * event time, with memory state and no enrichment databases: LANL carries no addresses to look up.
 */

import { createEngine } from "../engine/create-engine.js";
import { PEP_ONLY_ENRICHER } from "../enrich/enrichment.js";
import type { CompiledPolicy } from "../policy/compiled.js";
import { loadPolicy } from "../policy/load.js";
import { MemoryStateStore } from "../state/memory.js";
import type { LabelledRequest } from "./labelled-request.js";
import { LANL_EPOCH_MS, type LanlLoadOptions, type LanlLoadStats, loadLanl, redTeamKey } from "./lanl.js";
import { type ReplayReport, replay } from "./replay.js";

export interface LanlReplayOptions extends LanlLoadOptions {
  /** Default: the default policy shipped with Signalbox. */
  readonly policy?: CompiledPolicy;
}

/** The result per unique red-team event (several identical auth lines can stand for one label). */
export interface RedTeamEventResult {
  readonly key: string;
  readonly lines: number;
  /** Lines of this event routed anywhere but `allow`. */
  readonly offFastPath: number;
}

export interface LanlReplay extends ReplayReport {
  readonly stats: LanlLoadStats;
  readonly redTeamEvents: readonly RedTeamEventResult[];
}

function keyOf(item: LabelledRequest): string {
  const { request } = item;
  const seconds = (Date.parse(request.context?.time ?? "") - LANL_EPOCH_MS) / 1000;
  return redTeamKey(seconds, request.subject.id, request.context?.device?.id ?? "", request.resource.id);
}

/** Replays the LANL fragment; see docs/datasets.md for the mapping and what the result means. */
export async function replayLanl(options: LanlReplayOptions): Promise<LanlReplay> {
  const data = await loadLanl(options);
  const engine = createEngine({
    policy: options.policy ?? (await loadPolicy()),
    state: new MemoryStateStore(),
    eventTime: "request",
    enricher: PEP_ONLY_ENRICHER,
  });
  try {
    const report = await replay(engine, data.requests);
    const byKey = new Map<string, { lines: number; offFastPath: number }>();
    data.requests.forEach((item, i) => {
      const event = report.events[i];
      if (!item.attack || !event) return;
      const key = keyOf(item);
      const entry = byKey.get(key) ?? { lines: 0, offFastPath: 0 };
      entry.lines++;
      if (event.controlPath !== "allow") entry.offFastPath++;
      byKey.set(key, entry);
    });
    const redTeamEvents = [...byKey].map(([key, v]) => ({ key, ...v }));
    return { ...report, stats: data.stats, redTeamEvents };
  } finally {
    await engine.close();
  }
}
