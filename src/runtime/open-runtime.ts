/** The composition root: configuration in, a running engine with its stores, policy and reload out. */

import { resolve } from "node:path";
import type { Logger } from "pino";
import { MemoryAuditTrail } from "../audit/memory.js";
import { openAuditTrail } from "../audit/open-audit.js";
import type { AuditTrail } from "../audit/port.js";
import type { ServeConfig } from "../config/serve-config.js";
import { createEngine } from "../engine/create-engine.js";
import type { EngineObserver } from "../engine/engine.js";
import { createDatabaseEnricher, type DatabaseEnricher } from "../enrich/database-enricher.js";
import type { Enricher } from "../enrich/enrichment.js";
import { PEP_ONLY_ENRICHER } from "../enrich/enrichment.js";
import { formatProblem, isSignalboxError } from "../errors/signalbox-error.js";
import type { CompiledPolicy } from "../policy/compiled.js";
import { DEFAULT_POLICY_FILE, loadPolicy } from "../policy/load.js";
import { openStateStore } from "../state/open-state.js";
import { type PolicyWatch, watchPolicy } from "./policy-watch.js";
import { ObserverHub, type PolicyReloadResult, probeEngine, type Runtime } from "./runtime.js";

export interface RuntimeOptions {
  readonly logger?: Logger;
  /** Watch the policy file and listen for SIGHUP (the CLI does; tests and embedders usually do not). */
  readonly watch?: boolean;
  /** Extra engine observers besides the ones subscribed later through `observe`. */
  readonly observer?: EngineObserver;
  readonly engineVersion?: string;
}

function problemsOf(err: unknown): string[] {
  if (isSignalboxError(err) && err.problems.length > 0) return err.problems.map(formatProblem);
  return [err instanceof Error ? err.message : String(err)];
}

/** Opens everything the service needs; on failure closes what was already opened and rethrows. */
export async function openRuntime(config: ServeConfig, options: RuntimeOptions = {}): Promise<Runtime> {
  const log = options.logger;
  const policyFile = config.policy ? resolve(config.policy) : DEFAULT_POLICY_FILE;
  const policy: CompiledPolicy = await loadPolicy(policyFile);

  const state = await openStateStore(config.state, config.dataDir);
  let audit: AuditTrail | undefined;
  let databases: DatabaseEnricher | undefined;
  try {
    // `memory:` keeps the trail in the process (tests, demos); every other URL goes to the audit adapters
    audit = config.audit === "memory:" ? new MemoryAuditTrail() : await openAuditTrail(config.audit, config.dataDir);
    if (config.enrichment === "databases") databases = await createDatabaseEnricher();
    const enricher: Enricher = databases ?? PEP_ONLY_ENRICHER;
    const hub = new ObserverHub();
    if (options.observer) hub.subscribe(options.observer);
    const engine = createEngine({
      policy,
      state,
      audit,
      enricher,
      eventTime: config.eventTime,
      observer: hub,
      ...(options.engineVersion ? { engineVersion: options.engineVersion } : {}),
    });
    log?.info(
      { policy: policy.id, revision: policy.revision, state: state.kind, audit: audit.kind },
      "signalbox engine ready",
    );

    let reloading: Promise<PolicyReloadResult> | undefined;
    const reloadPolicy = (): Promise<PolicyReloadResult> => {
      // a burst of change events collapses into the one reload already running
      reloading ??= loadPolicy(policyFile)
        .then((next): PolicyReloadResult => {
          engine.setPolicy(next);
          log?.info({ policy: next.id, revision: next.revision }, "policy reloaded");
          return { ok: true, id: next.id, revision: next.revision };
        })
        .catch((err: unknown): PolicyReloadResult => {
          const problems = problemsOf(err);
          log?.error({ file: policyFile, problems }, "policy reload failed; the previous policy stays active");
          return { ok: false, problems };
        })
        .finally(() => {
          reloading = undefined;
        });
      return reloading;
    };

    const watcher: PolicyWatch | undefined = options.watch
      ? watchPolicy(policyFile, config.reloadDebounceMs, () => void reloadPolicy())
      : undefined;

    let closing: Promise<void> | undefined;
    return {
      engine,
      observe: (o) => hub.subscribe(o),
      probe: () => probeEngine(engine),
      reloadPolicy,
      close() {
        closing ??= (async () => {
          watcher?.stop();
          databases?.close();
          await reloading;
          await engine.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    databases?.close();
    await Promise.allSettled([state.close(), audit?.close()]);
    throw err;
  }
}
