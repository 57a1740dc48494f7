/** The batch window per store mode: SQLite `normal` sends a lone record on the next turn, `strict` waits for company. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openAuditStore } from "../../src/audit/open-audit.js";
import { makeEntry } from "./fixtures.js";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const dirs: string[] = [];

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "signalbox-audit-window-"));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the commit window of the SQLite trail", () => {
  it("commits a lone record in normal mode without waiting out the window", async () => {
    const trail = await openAuditStore("sqlite:", dataDir(), { batch: { maxDelayMs: 60_000 } });
    let committed = false;
    const pending = trail.recordDecision(makeEntry({ n: 1 })).then(() => {
      committed = true;
    });
    // Sent on the next turn; the writer thread's acknowledgement then takes what the commit takes,
    // far less than the 60 s window a waiting batch would sit out.
    const deadline = Date.now() + 10_000;
    while (!committed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(committed).toBe(true);
    await pending;
    expect((await trail.getDecision(makeEntry({ n: 1 }).decision.id))?.entry.decision.id).toBe(
      makeEntry({ n: 1 }).decision.id,
    );
    await trail.close();
  });

  it("keeps the window in strict mode, where a commit costs an fsync", async () => {
    const trail = await openAuditStore("sqlite:", dataDir(), { durability: "strict", batch: { maxDelayMs: 60_000 } });
    let committed = false;
    const pending = trail.recordDecision(makeEntry({ n: 2 })).then(() => {
      committed = true;
    });
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(committed).toBe(false);
    await trail.close();
    await pending;
    expect(committed).toBe(true);
  });

  it("lets the configuration choose the window", async () => {
    const trail = await openAuditStore("sqlite:", dataDir(), { batch: { maxDelayMs: 60_000, deepQueue: 8 } });
    let committed = false;
    const pending = trail.recordDecision(makeEntry({ n: 3 })).then(() => {
      committed = true;
    });
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(committed).toBe(false);
    await trail.close();
    await pending;
    expect(committed).toBe(true);
  });
});
