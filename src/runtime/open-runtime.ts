/** The composition root: configuration in, a running engine with its stores, policy and reload out. */

import { resolve } from "node:path";
import type { Logger } from "pino";
import type { ServeConfig } from "../config/serve-config.js";
import type { EngineObserver } from "../engine/engine.js";
import { PEP_ONLY_ENRICHER } from "../enrich/enrichment.js";
import { formatProblem, isSignalboxError } from "../errors/signalbox-error.js";
import type { CompiledPolicy } from "../policy/compiled.js";
import { engineFactory, openAudit, openEnricher, openState, policyLoader } from "./optional-modules.js";
import { type PolicyWatch, watchPolicy } from "./policy-watch.js";
import { ObserverHub, type PolicyReloadResult, type Runtime, probeEngine } from "./runtime.js";

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
  const loader = await policyLoader();
  const policyFile = config.policy ? resolve(config.policy) : loader.defaultFile;
  if (!policyFile) throw new Error("no policy file given and no default policy is shipped");
  const policy: CompiledPolicy = await loader.load(policyFile);

  const state = await openState(config.state, config.dataDir);
  let audit: Awaited<ReturnType<typeof openAudit>> | undefined;
  try {
    audit = await openAudit(config.audit, config.dataDir);
    const enricher = (await openEnricher(config.dataDir)) ?? PEP_ONLY_ENRICHER;
    const createEngine = await engineFactory();
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
      reloading ??= loader
        .load(policyFile)
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
          await reloading;
          await engine.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await Promise.allSettled([state.close(), audit?.close()]);
    throw err;
  }
}
