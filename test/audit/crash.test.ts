/**
 * Crash safety: a writer killed with SIGKILL under load loses no record it acknowledged, and the
 * trail it leaves verifies and can be continued.
 */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChainedAuditTrail } from "../../src/audit/chained-trail.js";
import { openAuditStore } from "../../src/audit/open-audit.js";
import { verifyChain } from "../../src/audit/verify-chain.js";
import { decisionId, makeEntry } from "./fixtures.js";

const WRITER = fileURLToPath(new URL("./crash-writer.ts", import.meta.url));
const ACKS_BEFORE_KILL = 3000;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "signalbox-audit-crash-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer until it has acknowledged `acks` records, kills it with SIGKILL, returns what it acknowledged. */
function runAndKill(durability: string, acks: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", WRITER, dir, durability], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const acked: number[] = [];
    let buffer = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on("data", (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const l of lines) acked.push(Number(l));
      if (acked.length >= acks && child.exitCode === null && !child.killed) child.kill("SIGKILL");
    });
    child.on("error", reject);
    child.on("exit", (_code, signal) => {
      if (signal === "SIGKILL") resolve(acked);
      else reject(new Error(`writer exited before it was killed: ${stderr}`));
    });
  });
}

async function decisionIds(store: ChainedAuditTrail): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await store.query({ kind: "decision" }, cursor, 1000);
    for (const r of page.records) if (r.decision_id) ids.add(r.decision_id);
    cursor = page.next;
  } while (cursor);
  return ids;
}

describe("audit trail crash safety (SQLite, kill -9 under load)", () => {
  for (const durability of ["normal", "strict"]) {
    it(`keeps every acknowledged record in ${durability} mode and still verifies`, async () => {
      const acked = await runAndKill(durability, ACKS_BEFORE_KILL);
      expect(acked.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);

      const store = await openAuditStore(undefined, dir);
      try {
        const stored = await decisionIds(store);
        const lost = acked.filter((n) => !stored.has(decisionId(n)));
        expect(lost).toEqual([]);
        const verified = await verifyChain(store);
        expect(verified).toMatchObject({ ok: true });
        expect(verified.checked).toBe(stored.size);

        // The killed writer's chain is continued by the next process with the same writer id.
        const before = verified.checked;
        await store.recordDecision(makeEntry({ n: 1_000_000 }));
        expect(await verifyChain(store)).toMatchObject({ ok: true, checked: before + 1 });
      } finally {
        await store.close();
      }
    });
  }
});
