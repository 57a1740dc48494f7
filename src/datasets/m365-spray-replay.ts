/**
 * Replays the M365 password-spray captures through an engine on event time, with memory state and
 * the database enricher, since every record carries the client's address.
 */

import { createEngine } from "../engine/create-engine.js";
import { createDatabaseEnricher } from "../enrich/database-enricher.js";
import type { Enricher } from "../enrich/enrichment.js";
import type { CompiledPolicy } from "../policy/compiled.js";
import { loadPolicy } from "../policy/load.js";
import { MemoryStateStore } from "../state/memory.js";
import { loadM365Spray, type M365LoadStats } from "./m365-spray.js";
import { type ReplayReport, replay } from "./replay.js";

export interface M365ReplayOptions {
  /** The folder holding the captures. */
  readonly dir: string;
  /** Captures to replay, in one stream. Default: both. */
  readonly files?: readonly string[];
  /** Default: the default policy shipped with Signalbox. */
  readonly policy?: CompiledPolicy;
  /** Default: the database enricher with the bundled city and ASN databases. */
  readonly enricher?: Enricher;
}

export interface M365Replay extends ReplayReport {
  readonly stats: M365LoadStats;
}

/** Replays the spray captures; see docs/datasets.md for the mapping and what the result means. */
export async function replayM365(options: M365ReplayOptions): Promise<M365Replay> {
  const data = await loadM365Spray(options);
  const owned = options.enricher ? undefined : await createDatabaseEnricher();
  const engine = createEngine({
    policy: options.policy ?? (await loadPolicy()),
    state: new MemoryStateStore(),
    eventTime: "request",
    enricher: options.enricher ?? owned,
  });
  try {
    return { ...(await replay(engine, data.requests)), stats: data.stats };
  } finally {
    await engine.close();
    owned?.close();
  }
}
