/** Re-loads the active and the shadow policy from their files into a running engine, keeping the old one on error. */

import type { Logger } from "pino";
import type { Engine } from "../engine/engine.js";
import { formatProblem, isSignalboxError } from "../errors/signalbox-error.js";
import type { CompiledPolicy } from "../policy/compiled.js";
import { loadPolicy } from "../policy/load.js";
import type { PolicyLoadResult, PolicyReloadResult } from "../server/runtime.js";

export interface PolicyFiles {
  readonly active: string;
  /** The shadow policy's file; absent when no shadow policy is configured. */
  readonly shadow?: string;
}

export interface PolicyReloader {
  /** Re-loads both files; a burst of calls collapses into the reload already running. */
  reload(): Promise<PolicyReloadResult>;
  /** Resolves when no reload is running (for shutdown). */
  settled(): Promise<void>;
}

function problemsOf(err: unknown): string[] {
  if (isSignalboxError(err) && err.problems.length > 0) return err.problems.map(formatProblem);
  return [err instanceof Error ? err.message : String(err)];
}

async function loadInto(
  file: string,
  install: (policy: CompiledPolicy) => void,
  role: "policy" | "shadow policy",
  log: Logger | undefined,
): Promise<PolicyLoadResult> {
  try {
    const next = await loadPolicy(file);
    install(next);
    log?.info({ policy: next.id, revision: next.revision }, `${role} reloaded`);
    return { ok: true, id: next.id, revision: next.revision };
  } catch (err) {
    const problems = problemsOf(err);
    log?.error({ file, problems }, `${role} reload failed; the previous ${role} stays in force`);
    return { ok: false, problems };
  }
}

export function createPolicyReloader(
  engine: Engine,
  files: PolicyFiles,
  log?: Logger,
  onResult?: (result: "ok" | "error") => void,
): PolicyReloader {
  let reloading: Promise<PolicyReloadResult> | undefined;
  const run = async (): Promise<PolicyReloadResult> => {
    // the two files are independent: a broken candidate must not hold back a fixed active policy
    const [active, shadow] = await Promise.all([
      loadInto(files.active, (p) => engine.setPolicy(p), "policy", log),
      files.shadow === undefined
        ? undefined
        : loadInto(files.shadow, (p) => engine.setShadowPolicy(p), "shadow policy", log),
    ]);
    onResult?.(active.ok && (shadow === undefined || shadow.ok) ? "ok" : "error");
    return shadow === undefined ? active : { ...active, shadow };
  };
  return {
    reload() {
      reloading ??= run().finally(() => {
        reloading = undefined;
      });
      return reloading;
    },
    async settled() {
      await reloading;
    },
  };
}
