/** The composition root: configuration in, a running engine with its stores, policies and reload out. */

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
import type { CompiledPolicy } from "../policy/compiled.js";
import { DEFAULT_POLICY_FILE, loadPolicy } from "../policy/load.js";
import { ObserverHub, probeEngine, type Runtime } from "../server/runtime.js";
import { openStateStore } from "../state/open-state.js";
import { auditOptionsOf } from "./audit-options.js";
import { engineOptionsOf } from "./engine-options.js";
import { enricherOptionsOf, logListReport } from "./enricher-options.js";
import { createPolicyReloader, type PolicyFiles } from "./policy-reload.js";
import { type PolicyWatch, watchPolicy } from "./policy-watch.js";

export interface RuntimeOptions {
  readonly logger?: Logger;
  /**
   * Watch the policy files and the network lists, and listen for SIGHUP (the CLI does; tests and
   * embedders usually do not).
   */
  readonly watch?: boolean;
  /** Extra engine observers besides the ones subscribed later through `observe`. */
  readonly observer?: EngineObserver;
  readonly engineVersion?: string;
}

/** Opens everything the service needs; on failure closes what was already opened and rethrows. */
export async function openRuntime(config: ServeConfig, options: RuntimeOptions = {}): Promise<Runtime> {
  const log = options.logger;
  const files: PolicyFiles = {
    active: config.policy ? resolve(config.policy) : DEFAULT_POLICY_FILE,
    ...(config.shadowPolicy ? { shadow: resolve(config.shadowPolicy) } : {}),
  };
  const policy: CompiledPolicy = await loadPolicy(files.active);
  const shadowPolicy = files.shadow === undefined ? undefined : await loadPolicy(files.shadow);

  const state = await openStateStore(config.state, config.dataDir);
  let audit: AuditTrail | undefined;
  let databases: DatabaseEnricher | undefined;
  try {
    // `memory:` keeps the trail in the process (tests, demos); every other URL goes to the audit adapters
    audit =
      config.audit === "memory:"
        ? new MemoryAuditTrail()
        : await openAuditTrail(config.audit, config.dataDir, auditOptionsOf(config.auditTrail));
    if (config.enrichment === "databases") {
      databases = await createDatabaseEnricher(
        enricherOptionsOf(config.lists, { watch: options.watch === true, ...(log ? { logger: log } : {}) }),
      );
      logListReport(databases.listReport, log, "network lists loaded");
    }
    const enricher: Enricher = databases ?? PEP_ONLY_ENRICHER;
    const hub = new ObserverHub();
    if (options.observer) hub.subscribe(options.observer);
    const engine = createEngine(
      engineOptionsOf(config, {
        policy,
        shadowPolicy,
        state,
        audit,
        enricher,
        observer: hub,
        engineVersion: options.engineVersion,
      }),
    );
    log?.info(
      {
        policy: policy.id,
        revision: policy.revision,
        ...(shadowPolicy ? { shadow: { policy: shadowPolicy.id, revision: shadowPolicy.revision } } : {}),
        state: state.kind,
        audit: audit.kind,
      },
      "signalbox engine ready",
    );

    const reloader = createPolicyReloader(engine, files, log, (r) => hub.onPolicyReload(r));
    const watched = files.shadow === undefined ? [files.active] : [files.active, files.shadow];
    const watcher: PolicyWatch | undefined = options.watch
      ? watchPolicy(watched, config.reloadDebounceMs, () => void reloader.reload())
      : undefined;

    let closing: Promise<void> | undefined;
    return {
      engine,
      observe: (o) => hub.subscribe(o),
      probe: () => probeEngine(engine),
      reloadPolicy: () => reloader.reload(),
      close() {
        closing ??= (async () => {
          watcher?.stop();
          databases?.close();
          await reloader.settled();
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
