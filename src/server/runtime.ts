/** What the service needs around an engine: readiness, policy reload, observers, closing; built by the composition root in src/runtime/. */

import type { Engine, EngineObserver } from "../engine/engine.js";

export interface ReadinessProbe {
  /** The state store answered a read. */
  readonly state: boolean;
  /** The audit trail answered a lookup. */
  readonly audit: boolean;
}

/** What loading one policy file gave: the policy now in force, or the problems that kept the old one. */
export type PolicyLoadResult =
  | { readonly ok: true; readonly id: string; readonly revision: string }
  | { readonly ok: false; readonly problems: readonly string[] };

/** The active policy's result, and the shadow policy's when one is configured. */
export type PolicyReloadResult = PolicyLoadResult & { readonly shadow?: PolicyLoadResult };

export interface Runtime {
  readonly engine: Engine;
  /** Subscribes to engine events (metrics, logs); returns the unsubscribe function. */
  observe(observer: EngineObserver): () => void;
  /** Whether the state store and the audit trail are reachable right now. */
  probe(): Promise<ReadinessProbe>;
  /**
   * Re-loads the policy file (and the shadow policy file, if any); on error the policy in force
   * stays and the problems are returned.
   */
  reloadPolicy(): Promise<PolicyReloadResult>;
  /** Stops watching, closes the engine (flushing the audit trail). Idempotent. */
  close(): Promise<void>;
}

/** Fans engine events out to any number of subscribers; a failing subscriber never reaches the engine. */
export class ObserverHub implements EngineObserver {
  private readonly subscribers = new Set<EngineObserver>();

  subscribe(observer: EngineObserver): () => void {
    this.subscribers.add(observer);
    return () => this.subscribers.delete(observer);
  }

  private each(call: (o: EngineObserver) => void): void {
    for (const o of this.subscribers) {
      try {
        call(o);
      } catch {
        // observers must not throw (engine contract); one that does loses its own event only
      }
    }
  }

  onDecision: NonNullable<EngineObserver["onDecision"]> = (d, r) => this.each((o) => o.onDecision?.(d, r));
  onShadowDecision: NonNullable<EngineObserver["onShadowDecision"]> = (a, s, r) =>
    this.each((o) => o.onShadowDecision?.(a, s, r));
  onDetectorError: NonNullable<EngineObserver["onDetectorError"]> = (d, s) =>
    this.each((o) => o.onDetectorError?.(d, s));
  onStateError: NonNullable<EngineObserver["onStateError"]> = (k, m) => this.each((o) => o.onStateError?.(k, m));
  onOutcome: NonNullable<EngineObserver["onOutcome"]> = (out, id) => this.each((o) => o.onOutcome?.(out, id));
  onPolicyReload: NonNullable<EngineObserver["onPolicyReload"]> = (r) => this.each((o) => o.onPolicyReload?.(r));
}

const PROBE_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/** Probes the engine's stores with the cheapest calls their ports offer. */
export async function probeEngine(engine: Engine): Promise<ReadinessProbe> {
  const [state, audit] = await Promise.allSettled([
    // one real key, so a networked store makes a real round trip
    withTimeout(
      engine.state.read({ profiles: ["probe:readyz"], counters: [], claims: [] }, Date.now()),
      PROBE_TIMEOUT_MS,
    ),
    withTimeout(engine.audit.getDecision("00000000-0000-0000-0000-000000000000"), PROBE_TIMEOUT_MS),
  ]);
  return { state: state.status === "fulfilled", audit: audit.status === "fulfilled" };
}

/** A runtime around an existing engine, with no policy file to reload (library use and tests). */
export function runtimeOf(engine: Engine, hub: ObserverHub): Runtime {
  let closed: Promise<void> | undefined;
  return {
    engine,
    observe: (o) => hub.subscribe(o),
    probe: () => probeEngine(engine),
    reloadPolicy: async () => ({ ok: false, problems: ["the service was started without a policy file"] }),
    close: () => {
      closed ??= engine.close();
      return closed;
    },
  };
}
