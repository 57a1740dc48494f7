/** Opens the audit trail a URL names: SQLite under the data directory, PostgreSQL, or off. */

import { createHash, randomBytes, randomUUID } from "node:crypto";
import { accessSync, constants, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { SignalboxError } from "../errors/signalbox-error.js";
import { ChainedAuditTrail } from "./chained-trail.js";
import { loadCheckpointSigner } from "./checkpoint-key.js";
import type { GroupCommitOptions } from "./group-commit.js";
import { AUDIT_OFF, type AuditTrail } from "./port.js";
import { PostgresAuditBackend } from "./postgres-backend.js";
import { type Durability, SqliteAuditBackend } from "./sqlite-backend.js";
import type { AuditBackend } from "./store.js";

export interface AuditOptions {
  /** This node's chain id. Default: SQLite keeps a UUID in the store; PostgreSQL uses host name + data dir hash. */
  readonly writerId?: string;
  /** Default `normal`. */
  readonly durability?: Durability;
  /** Dotted request paths to mask. Default: `context.token.jti`, `context.session.id`. */
  readonly mask?: readonly string[];
  /** HMAC key for masking. Default: a random key kept in the store (shared by every writer). */
  readonly maskKey?: string;
  readonly checkpoints?: {
    readonly every?: number;
    readonly intervalMs?: number;
    /** PEM or JWK file with an ES256 or Ed25519 private key. */
    readonly keyFile?: string;
  };
  readonly batch?: GroupCommitOptions;
  /** PostgreSQL schema; also `?schema=` in the URL. Default `public`. */
  readonly schema?: string;
}

/** The URL with any password replaced, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:****@");
}

type Target =
  | { readonly kind: "off" }
  | { readonly kind: "sqlite"; readonly file: string }
  | { readonly kind: "postgresql"; readonly connectionString: string; readonly schema?: string };

export function parseAuditUrl(url: string | undefined, dataDir: string): Target {
  const value = url?.trim() ?? "";
  if (value === "" || value === "sqlite:" || value === "sqlite")
    return { kind: "sqlite", file: join(dataDir, "audit.db") };
  if (value === "off") return { kind: "off" };
  if (value.startsWith("sqlite:")) {
    const file = value.slice("sqlite:".length).replace(/^\/\//, "");
    return { kind: "sqlite", file: file === "" ? join(dataDir, "audit.db") : file };
  }
  if (value.startsWith("postgresql://") || value.startsWith("postgres://")) {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new SignalboxError("CONFIG_INVALID", `audit URL "${redactUrl(value)}" is not a valid PostgreSQL URL`);
    }
    const schema = parsed.searchParams.get("schema") ?? undefined;
    parsed.searchParams.delete("schema");
    // The driver reads these files when it connects; a missing one is a configuration mistake.
    for (const name of ["sslrootcert", "sslcert", "sslkey"]) {
      const file = parsed.searchParams.get(name);
      if (file === null) continue;
      try {
        accessSync(file, constants.R_OK);
      } catch (err) {
        const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        throw new SignalboxError(
          "CONFIG_INVALID",
          `${name} '${file}' in audit URL "${redactUrl(value)}" cannot be read (${why})`,
        );
      }
    }
    return { kind: "postgresql", connectionString: parsed.toString(), ...(schema ? { schema } : {}) };
  }
  throw new SignalboxError(
    "CONFIG_INVALID",
    `audit URL "${redactUrl(value)}" is not supported; use sqlite:[FILE], postgresql://… or off`,
  );
}

/**
 * Opens the trail `url` names (`undefined` or `sqlite:` → `<dataDir>/audit.db`; `postgresql://…`;
 * `off` → the disabled trail). Throws `CONFIG_INVALID` for a bad URL or key, `AUDIT_UNAVAILABLE`
 * when the store cannot be reached.
 */
export async function openAuditTrail(
  url: string | undefined,
  dataDir: string,
  options: AuditOptions = {},
): Promise<AuditTrail> {
  const target = parseAuditUrl(url, dataDir);
  if (target.kind === "off") return AUDIT_OFF;
  return openTarget(target, dataDir, options, url);
}

/** Like `openAuditTrail`, for tools that read the trail: `off` is an error here. */
export async function openAuditStore(
  url: string | undefined,
  dataDir: string,
  options: AuditOptions = {},
): Promise<ChainedAuditTrail> {
  const target = parseAuditUrl(url, dataDir);
  if (target.kind === "off") throw new SignalboxError("CONFIG_INVALID", `audit URL "off" has no trail to read`);
  return openTarget(target, dataDir, options, url);
}

async function openTarget(
  target: Exclude<Target, { kind: "off" }>,
  dataDir: string,
  options: AuditOptions,
  url: string | undefined,
): Promise<ChainedAuditTrail> {
  const signer = options.checkpoints?.keyFile ? loadCheckpointSigner(options.checkpoints.keyFile) : undefined;
  let backend: AuditBackend;
  let defaultWriter: string;
  try {
    if (target.kind === "sqlite") {
      if (target.file !== ":memory:") mkdirSync(resolve(target.file, ".."), { recursive: true });
      backend = await SqliteAuditBackend.open({ file: target.file, durability: options.durability ?? "normal" });
      defaultWriter = await backend.meta("writer_id", randomUUID());
    } else {
      const schema = options.schema ?? target.schema;
      backend = await PostgresAuditBackend.open({
        connectionString: target.connectionString,
        durability: options.durability ?? "normal",
        ...(schema ? { schema } : {}),
      });
      // Nodes share the store, so the default id must come from the node, not the store.
      defaultWriter = `${hostname()}-${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 8)}`;
    }
  } catch (err) {
    if (err instanceof SignalboxError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new SignalboxError(
      "AUDIT_UNAVAILABLE",
      `cannot open audit store "${redactUrl(url ?? "sqlite:")}": ${message}`,
      {
        cause: err,
      },
    );
  }
  const maskKey = options.maskKey ?? (await backend.meta("mask_key", randomBytes(32).toString("hex")));
  const checkpoints = options.checkpoints
    ? {
        ...(options.checkpoints.every !== undefined ? { every: options.checkpoints.every } : {}),
        ...(options.checkpoints.intervalMs !== undefined ? { intervalMs: options.checkpoints.intervalMs } : {}),
        ...(signer ? { signer } : {}),
      }
    : undefined;
  // SQLite in `normal` mode commits without an fsync, in a few hundred microseconds: a lone decision
  // gains nothing by waiting out the batch window for company (it was 2 ms of its latency), and
  // callers arriving in the same turn still share the commit. Where a commit costs an fsync
  // (`strict`) or a round trip (PostgreSQL) the window stays, since that cost is what it shares.
  const commitNextTurn = target.kind === "sqlite" && (options.durability ?? "normal") === "normal";
  return ChainedAuditTrail.open(backend, {
    // …and a busy turn is handed to the writer thread in chunks of 32 records, two in flight, so the
    // thread commits the first ones while the main thread computes the rest.
    ...(commitNextTurn ? { deepQueue: 1, maxBatch: 32 } : {}),
    ...options.batch,
    writerId: options.writerId ?? defaultWriter,
    maskKey,
    ...(options.mask ? { mask: options.mask } : {}),
    ...(checkpoints ? { checkpoints } : {}),
  });
}
