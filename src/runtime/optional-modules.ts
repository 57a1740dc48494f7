/**
 * Loads the composition root's collaborators by module path, so the service starts (on in-memory
 * stand-ins) while an adapter module is not part of the build yet. Each loader names the export it needs.
 */

import { MemoryAuditTrail } from "../audit/memory.js";
import type { AuditTrail } from "../audit/port.js";
import type { Engine, EngineOptions } from "../engine/engine.js";
import type { Enricher } from "../enrich/enrichment.js";
import { SignalboxError } from "../errors/signalbox-error.js";
import type { CompiledPolicy } from "../policy/compiled.js";
import { MemoryStateStore } from "../state/memory.js";
import type { StateStore } from "../state/port.js";

type Loaded = Record<string, unknown>;

async function tryImport(specifier: string): Promise<Loaded | undefined> {
  try {
    return (await import(specifier)) as Loaded;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      // only "this very module is absent" means fall back; a broken dependency inside it must surface
      const message = String((err as Error).message);
      if (message.includes(specifier.replace(/^\.\.\//, "").replace(/\.js$/, ""))) return undefined;
    }
    throw err;
  }
}

function fn<T>(mod: Loaded | undefined, name: string): T | undefined {
  const f = mod?.[name];
  return typeof f === "function" ? (f as T) : undefined;
}

export async function openState(url: string | undefined, dataDir: string): Promise<StateStore> {
  const open = fn<(url: string | undefined, dataDir: string) => StateStore | Promise<StateStore>>(
    await tryImport("../state/open-state.js"),
    "openStateStore",
  );
  if (open) return await open(url, dataDir);
  return new MemoryStateStore();
}

export async function openAudit(url: string | undefined, dataDir: string): Promise<AuditTrail> {
  const open = fn<(url: string | undefined, dataDir: string, opts: object) => AuditTrail | Promise<AuditTrail>>(
    await tryImport("../audit/open-audit.js"),
    "openAuditTrail",
  );
  if (open) return await open(url, dataDir, {});
  return new MemoryAuditTrail();
}

export interface PolicyLoader {
  readonly defaultFile: string | undefined;
  load(file: string): Promise<CompiledPolicy>;
}

const POLICY_MODULES = ["../policy/load-policy.js", "../policy/index.js"];

export async function policyLoader(): Promise<PolicyLoader> {
  for (const specifier of POLICY_MODULES) {
    const mod = await tryImport(specifier);
    const load = fn<(file: string) => CompiledPolicy | Promise<CompiledPolicy>>(mod, "loadPolicy");
    if (load) {
      const defaultFile = mod?.DEFAULT_POLICY_FILE;
      return {
        defaultFile: typeof defaultFile === "string" ? defaultFile : undefined,
        load: async (file) => await load(file),
      };
    }
  }
  throw new SignalboxError("POLICY_NOT_FOUND", "the policy loader is not part of this build");
}

export async function engineFactory(): Promise<(options: EngineOptions) => Engine> {
  const create = fn<(options: EngineOptions) => Engine>(await tryImport("../engine/create-engine.js"), "createEngine");
  if (!create) throw new SignalboxError("INTERNAL", "the engine is not part of this build");
  return create;
}

export async function openEnricher(dataDir: string): Promise<Enricher | undefined> {
  const create = fn<(options: { dataDir: string }) => Enricher | Promise<Enricher>>(
    await tryImport("../enrich/database-enricher.js"),
    "createDatabaseEnricher",
  );
  return create ? await create({ dataDir }) : undefined;
}
