/** `signalbox audit verify | query | export | prune`: thin wrappers over the audit store. */

import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import type { Command } from "commander";
import type { ChainedAuditTrail } from "../../audit/chained-trail.js";
import { loadCheckpointPublicKey } from "../../audit/checkpoint-key.js";
import { ocsfEventsOf } from "../../audit/ocsf-export.js";
import { openAuditStore } from "../../audit/open-audit.js";
import type { DecisionAuditRecord } from "../../audit/record.js";
import type { AuditFilter } from "../../audit/store.js";
import { verifyChain } from "../../audit/verify-chain.js";
import { SignalboxError } from "../../errors/signalbox-error.js";
import { isControlPath } from "../../model/control-path.js";
import type { CliIO } from "../io.js";

interface StoreFlags {
  audit?: string;
  dataDir?: string;
}

interface FilterFlags extends StoreFlags {
  writer?: string;
  kind?: string;
  decision?: string;
  subject?: string;
  segment?: string;
  controlPath?: string;
  reason?: string;
  from?: string;
  to?: string;
}

const PROGRESS_EVERY = 10_000;
/** Decisions an OCSF export keeps at hand for the outcomes that follow them. */
const DECISIONS_AT_HAND = 10_000;

function storeOptions(cmd: Command): Command {
  return cmd
    .option(
      "--audit <url>",
      "audit store: sqlite:[FILE] or postgresql://… (default: SIGNALBOX_AUDIT, else SQLite in the data dir)",
    )
    .option("--data-dir <dir>", "data directory (default: SIGNALBOX_DATA_DIR, else ./signalbox-data)");
}

function filterOptions(cmd: Command): Command {
  return storeOptions(cmd)
    .option("--writer <id>", "only this writer's chain")
    .option("--kind <kind>", "decision, outcome or checkpoint")
    .option("--decision <id>", "records of one decision")
    .option("--subject <type:id>", "identity key, e.g. user:alice")
    .option("--segment <name>", "segment")
    .option("--control-path <path>", "control path, e.g. step_up")
    .option("--reason <code>", "reason code")
    .option("--from <time>", "event time from (RFC 3339 or epoch ms, inclusive)")
    .option("--to <time>", "event time to (RFC 3339 or epoch ms, exclusive)");
}

function open(flags: StoreFlags): Promise<ChainedAuditTrail> {
  const dataDir = flags.dataDir ?? process.env.SIGNALBOX_DATA_DIR ?? "./signalbox-data";
  // Its own chain: a prune's checkpoint must never collide with a running server's next record.
  return openAuditStore(flags.audit ?? process.env.SIGNALBOX_AUDIT, dataDir, { writerId: `cli@${hostname()}` });
}

function timeFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(ms))
    throw new SignalboxError("CONFIG_INVALID", `--${name} "${value}" is not an RFC 3339 time or epoch ms`);
  return ms;
}

function filterOf(flags: FilterFlags): AuditFilter {
  if (flags.controlPath !== undefined && !isControlPath(flags.controlPath)) {
    throw new SignalboxError("CONFIG_INVALID", `--control-path "${flags.controlPath}" is not a control path`);
  }
  if (flags.kind !== undefined && !["decision", "outcome", "checkpoint"].includes(flags.kind)) {
    throw new SignalboxError("CONFIG_INVALID", `--kind "${flags.kind}" is not decision, outcome or checkpoint`);
  }
  const from = timeFlag("from", flags.from);
  const to = timeFlag("to", flags.to);
  return {
    ...(flags.writer !== undefined ? { writer: flags.writer } : {}),
    ...(flags.kind !== undefined ? { kind: flags.kind as AuditFilter["kind"] & string } : {}),
    ...(flags.decision !== undefined ? { decisionId: flags.decision } : {}),
    ...(flags.subject !== undefined ? { subject: flags.subject } : {}),
    ...(flags.segment !== undefined ? { segment: flags.segment } : {}),
    ...(flags.controlPath !== undefined && isControlPath(flags.controlPath) ? { controlPath: flags.controlPath } : {}),
    ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  };
}

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new SignalboxError("CONFIG_INVALID", `--${name} "${value}" is not a positive integer`);
  return n;
}

async function verify(
  flags: StoreFlags & { publicKey?: string; writer?: string; anchor?: string[] },
  io: CliIO,
): Promise<number> {
  const publicKey = flags.publicKey ? loadCheckpointPublicKey(flags.publicKey) : undefined;
  const anchors = (flags.anchor ?? []).flatMap((file) =>
    readFileSync(file, "utf8")
      .split(/\s+/)
      .filter((s) => s.length > 0),
  );
  const store = await open(flags);
  try {
    const result = await verifyChain(store, {
      ...(flags.writer ? { writer: flags.writer } : {}),
      ...(publicKey ? { publicKey } : {}),
      anchors,
    });
    io.out(JSON.stringify(result));
    if (result.firstBroken) {
      const b = result.firstBroken;
      io.err(
        `audit chain broken: ${b.problem} at seq ${b.seq} of writer "${b.writer}"${b.decisionId ? ` (decision ${b.decisionId})` : ""}: ${b.message} [AUDIT_CHAIN_BROKEN]`,
      );
      return 1;
    }
    const anchored = result.unanchored === undefined ? "" : `, ${result.unanchored} after the last signed checkpoint`;
    io.err(`audit chain ok: ${result.checked} records in ${result.writers.length} chains${anchored}`);
    return 0;
  } finally {
    await store.close();
  }
}

async function query(flags: FilterFlags & { limit: string; cursor?: string }, io: CliIO): Promise<number> {
  const store = await open(flags);
  try {
    const page = await store.query(filterOf(flags), flags.cursor, positive("limit", flags.limit));
    for (const r of page.records) io.out(JSON.stringify(r));
    if (page.next) io.err(`more: --cursor ${page.next}`);
    return 0;
  } finally {
    await store.close();
  }
}

async function exportTrail(flags: FilterFlags & { format: string; out?: string }, io: CliIO): Promise<number> {
  if (flags.format !== "jsonl" && flags.format !== "ocsf") {
    throw new SignalboxError("CONFIG_INVALID", `--format "${flags.format}" is not jsonl or ocsf`);
  }
  const filter = filterOf(flags);
  const store = await open(flags);
  const fd = flags.out ? openSync(flags.out, "w") : undefined;
  const write = (line: string): void => {
    if (fd === undefined) io.out(line);
    else writeSync(fd, `${line}\n`);
  };
  let records = 0;
  let events = 0;
  let orphans = 0;
  // An outcome's OCSF events need the decision it answers: recent decisions are kept at hand, as
  // outcomes follow their decisions closely; others are looked up in the trail.
  const decisions = new Map<string, DecisionAuditRecord | undefined>();
  const decisionOf = async (id: string): Promise<DecisionAuditRecord | undefined> => {
    if (decisions.has(id)) return decisions.get(id);
    const found = (await store.query({ decisionId: id, kind: "decision" }, undefined, 10)).records.filter(
      (r): r is DecisionAuditRecord => r.kind === "decision",
    );
    const decision = found.find((r) => !r.shadow) ?? found[0];
    remember(id, decision);
    return decision;
  };
  const remember = (id: string, decision: DecisionAuditRecord | undefined): void => {
    if (decisions.size >= DECISIONS_AT_HAND) decisions.delete(decisions.keys().next().value as string);
    decisions.set(id, decision);
  };
  try {
    let cursor: string | undefined;
    do {
      const page = await store.query(filter, cursor, 1000);
      for (const record of page.records) {
        if (flags.format === "ocsf" && record.kind === "decision" && !record.shadow && record.decision_id) {
          remember(record.decision_id, record);
        }
        let decision: DecisionAuditRecord | undefined;
        if (flags.format === "ocsf" && record.kind === "outcome") {
          decision = await decisionOf(record.decision_id ?? "");
          if (!decision) orphans++;
        }
        const lines = flags.format === "ocsf" ? ocsfEventsOf(record, decision) : [record];
        for (const line of lines) write(JSON.stringify(line));
        events += lines.length;
        records++;
        if (records % PROGRESS_EVERY === 0) io.err(`exported ${records} records`);
      }
      cursor = page.next;
    } while (cursor);
    io.err(`exported ${records} records as ${events} ${flags.format} lines${flags.out ? ` to ${flags.out}` : ""}`);
    if (orphans > 0) io.err(`${orphans} outcomes had no decision left in the trail (cut by retention): no OCSF event`);
    return 0;
  } finally {
    if (fd !== undefined) closeSync(fd);
    await store.close();
  }
}

async function prune(flags: StoreFlags & { before: string }, io: CliIO): Promise<number> {
  const before = timeFlag("before", flags.before) ?? 0;
  const store = await open(flags);
  try {
    const deleted = await store.deleteBefore(before);
    io.out(`deleted ${deleted} records written before ${new Date(before).toISOString()}`);
    return 0;
  } finally {
    await store.close();
  }
}

export function registerAuditCommands(program: Command, io: CliIO): void {
  const audit = program.command("audit").description("verify, query, export and prune the audit trail");
  storeOptions(audit.command("verify"))
    .description("verify every writer's hash chain; exits 1 and names the first broken link")
    .option("--public-key <file>", "PEM or JWK public key of the checkpoint signer (detects a truncated tail)")
    .option("--writer <id>", "only this writer's chain")
    .option("--anchor <file...>", "files of checkpoint JWS kept outside the store")
    .action(async (flags: StoreFlags & { publicKey?: string; writer?: string; anchor?: string[] }) => {
      process.exitCode = await verify(flags, io);
    });
  filterOptions(audit.command("query"))
    .description("print matching records as JSON lines, oldest event first")
    .option("--limit <n>", "records per page", "100")
    .option("--cursor <cursor>", "continue after the page that printed this cursor")
    .action(async (flags: FilterFlags & { limit: string; cursor?: string }) => {
      process.exitCode = await query(flags, io);
    });
  filterOptions(audit.command("export"))
    .description("export matching records as JSON lines or OCSF events")
    .option("--format <format>", "jsonl or ocsf", "jsonl")
    .option("--out <file>", "write to a file instead of stdout")
    .action(async (flags: FilterFlags & { format: string; out?: string }) => {
      process.exitCode = await exportTrail(flags, io);
    });
  storeOptions(audit.command("prune"))
    .description("delete records written before a time, leaving a checkpoint so the rest still verifies")
    .requiredOption("--before <time>", "RFC 3339 time or epoch ms")
    .action(async (flags: StoreFlags & { before: string }) => {
      process.exitCode = await prune(flags, io);
    });
}
