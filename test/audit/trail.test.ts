/** The chained trail beyond the conformance suite: failures, shadow records, timed checkpoints, keys. */

import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChainedAuditTrail } from "../../src/audit/chained-trail.js";
import { loadCheckpointPublicKey, loadCheckpointSigner } from "../../src/audit/checkpoint-key.js";
import { SqliteAuditBackend } from "../../src/audit/sqlite-backend.js";
import type { StoredRow } from "../../src/audit/store.js";
import { verifyChain } from "../../src/audit/verify-chain.js";
import { decisionId, makeEntry, T0 } from "./fixtures.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "signalbox-audit-trail-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function kinds(t: ChainedAuditTrail): Promise<string[]> {
  const out: string[] = [];
  for await (const r of t.iterate()) out.push(r.kind);
  return out;
}

describe("chained audit trail", () => {
  it("rejects with AUDIT_UNAVAILABLE when the store cannot commit, then carries on", async () => {
    const backend = await SqliteAuditBackend.open({ file: ":memory:" });
    const t = await ChainedAuditTrail.open(backend, { writerId: "w", maskKey: "k", maxDelayMs: 1 });
    await t.recordDecision(makeEntry({ n: 1 }));
    // The SQLite backend builds its rows: records reach it through appendLinks.
    const appendLinks = backend.appendLinks.bind(backend);
    backend.appendLinks = async () => {
      throw new Error("disk I/O error");
    };
    const err = await t.recordDecision(makeEntry({ n: 2 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "AUDIT_UNAVAILABLE" });
    expect(String((err as Error).message)).toContain("disk I/O error");
    backend.appendLinks = appendLinks;
    await t.recordDecision(makeEntry({ n: 3 }));
    expect(await verifyChain(t)).toMatchObject({ ok: true, checked: 2 });
    await t.close();
    await expect(t.recordDecision(makeEntry({ n: 4 }))).rejects.toMatchObject({ code: "AUDIT_UNAVAILABLE" });
  });

  it("pipelined batches: one chained on a failed batch fails too, later ones continue from the committed head", async () => {
    const file = join(dir, "audit.db");
    const backend = await SqliteAuditBackend.open({ file });
    // Batches of 2, up to 2 in flight on the writer thread, all queued in one turn.
    const t = await ChainedAuditTrail.open(backend, { writerId: "w", maskKey: "k", maxBatch: 2, deepQueue: 1 });
    await t.recordDecision(makeEntry({ n: 1 }));
    backend.exec(
      `CREATE TRIGGER fail_n4 BEFORE INSERT ON audit_records WHEN NEW.decision_id = '${decisionId(4)}'
       BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`,
    );
    // One pair per turn, so the pairs reach the writer thread as separate batches, pipelined.
    // Each outcome is taken at once: a rejection must not sit unobserved while the next pair is queued.
    const pending: Promise<PromiseSettledResult<void>>[] = [];
    for (const pair of [
      [2, 3],
      [4, 5],
      [6, 7],
    ]) {
      for (const n of pair) {
        pending.push(
          t.recordDecision(makeEntry({ n })).then(
            (value): PromiseSettledResult<void> => ({ status: "fulfilled", value }),
            (reason: unknown): PromiseSettledResult<void> => ({ status: "rejected", reason }),
          ),
        );
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await Promise.all(pending);
    backend.exec("DROP TRIGGER fail_n4");
    // Which records shared a transaction with n=4 depends on timing (the writer also merges batches
    // pushed in one turn), but: n=4 is refused, exactly the records whose callers were answered are
    // stored, and no batch chained on a refused one was committed (the chain would not verify).
    expect(results[2]?.status).toBe("rejected");
    await t.recordDecision(makeEntry({ n: 8 }));
    const answered = [2, 3, 4, 5, 6, 7].filter((_, i) => results[i]?.status === "fulfilled");
    const ids: (string | null)[] = [];
    for await (const r of t.iterate()) ids.push(r.decision_id);
    expect(ids).toEqual([1, ...answered, 8].map(decisionId));
    expect(await verifyChain(t)).toMatchObject({ ok: true, checked: ids.length });
    await t.close();
  });

  it("keeps a verifiable, anchored chain when signed checkpoints and a retention cut land among pipelined batches", async () => {
    const key = generateKeyPairSync("ec", { namedCurve: "P-256" });
    writeFileSync(join(dir, "cp.pem"), key.privateKey.export({ type: "pkcs8", format: "pem" }));
    writeFileSync(join(dir, "cp.pub.pem"), key.publicKey.export({ type: "spki", format: "pem" }));
    // The writer thread builds the rows; checkpoints (every 7 records) are chained on this thread
    // once everything before them has committed.
    const t = await ChainedAuditTrail.open(await SqliteAuditBackend.open({ file: join(dir, "audit.db") }), {
      writerId: "w",
      maskKey: "k",
      maxBatch: 8,
      deepQueue: 1,
      checkpoints: { every: 7, signer: loadCheckpointSigner(join(dir, "cp.pem")) },
    });
    const burst = (from: number, to: number): Promise<void>[] => {
      const out: Promise<void>[] = [];
      for (let n = from; n <= to; n++) {
        out.push(t.recordDecision(makeEntry({ n, wallTime: T0 + n * 1000 })));
        if (n % 5 === 0) {
          out.push(
            t.recordOutcome({
              decisionId: decisionId(n),
              outcome: "step_up_passed",
              wallTime: T0 + n * 1000,
            }),
          );
        }
      }
      return out;
    };
    await Promise.all(burst(1, 120));
    // A retention cut queued behind a burst and ahead of the next one.
    const first = burst(121, 180);
    const cut = t.deleteBefore(T0 + 40_500);
    const second = burst(181, 240);
    await Promise.all([...first, ...second]);
    expect(await cut).toBeGreaterThan(40);

    const publicKey = loadCheckpointPublicKey(join(dir, "cp.pub.pem"));
    const result = await verifyChain(t, { publicKey });
    expect(result.firstBroken).toBeUndefined();
    expect(result.ok).toBe(true);
    const counts = { decision: 0, outcome: 0, checkpoint: 0 };
    for await (const r of t.iterate()) counts[r.kind as keyof typeof counts]++;
    expect(counts.decision).toBe(240 - 40);
    expect(counts.outcome).toBe(48 - 8);
    expect(counts.checkpoint).toBeGreaterThan(30);
    await t.close();
  });

  it("reads back the enforced decision when a shadow decision shares its id", async () => {
    const t = await ChainedAuditTrail.open(await SqliteAuditBackend.open({ file: ":memory:" }), {
      writerId: "w",
      maskKey: "k",
    });
    await t.recordDecision(makeEntry({ n: 1, path: "deny", shadow: true }));
    await t.recordDecision(makeEntry({ n: 1, path: "allow" }));
    expect((await t.getDecision(decisionId(1)))?.entry.decision.controlPath).toBe("allow");
    expect((await t.query({ shadow: true })).records.map((r) => r.kind === "decision" && r.control_path)).toEqual([
      "deny",
    ]);
    await t.close();
  });

  it("writes a checkpoint on its interval once records are waiting for one", async () => {
    const t = await ChainedAuditTrail.open(await SqliteAuditBackend.open({ file: ":memory:" }), {
      writerId: "w",
      maskKey: "k",
      checkpoints: { intervalMs: 10 },
      now: () => T0,
    });
    await t.recordDecision(makeEntry({ n: 1 }));
    for (let i = 0; i < 200 && !(await kinds(t)).includes("checkpoint"); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(await kinds(t)).toEqual(["decision", "checkpoint"]);
    const page = await t.query({ kind: "checkpoint" });
    const cp = page.records[0];
    expect(cp?.kind === "checkpoint" && cp.checkpoint).toMatchObject({ reason: "periodic", head_seq: 1, count: 1 });
    expect(cp?.wall_time).toBe(new Date(T0).toISOString());
    await t.close();
  });

  it("retention keeps every writer's chain verifiable", async () => {
    const file = join(dir, "audit.db");
    const a = await ChainedAuditTrail.open(await SqliteAuditBackend.open({ file }), { writerId: "a", maskKey: "k" });
    const b = await ChainedAuditTrail.open(await SqliteAuditBackend.open({ file }), { writerId: "b", maskKey: "k" });
    for (let n = 1; n <= 6; n++) await (n % 2 ? a : b).recordDecision(makeEntry({ n, wallTime: T0 + n * 1000 }));
    expect(await a.deleteBefore(T0 + 4500)).toBe(4);
    const rows: StoredRow[] = [];
    for await (const r of a.iterate()) rows.push(r);
    expect(rows.map((r) => `${r.writer_id}${r.seq}`)).toEqual(["a3", "a4", "b3"]);
    expect(await verifyChain(a)).toMatchObject({ ok: true, checked: 3, writers: ["a", "b"] });
    await b.recordDecision(makeEntry({ n: 7 }));
    expect(await verifyChain(b)).toMatchObject({ ok: true, checked: 4 });
    await a.close();
    await b.close();
  });
});

describe("checkpoint keys", () => {
  it("reads ES256 and Ed25519 keys from PEM and JWK files", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const ed = generateKeyPairSync("ed25519");
    writeFileSync(join(dir, "ec.pem"), ec.privateKey.export({ type: "pkcs8", format: "pem" }));
    writeFileSync(join(dir, "ed.jwk"), JSON.stringify(ed.privateKey.export({ format: "jwk" })));
    writeFileSync(join(dir, "ec.pub.pem"), ec.publicKey.export({ type: "spki", format: "pem" }));
    expect(loadCheckpointSigner(join(dir, "ec.pem")).alg).toBe("ES256");
    expect(loadCheckpointSigner(join(dir, "ed.jwk")).alg).toBe("EdDSA");
    expect(loadCheckpointPublicKey(join(dir, "ec.pub.pem")).asymmetricKeyType).toBe("ec");
    expect(loadCheckpointPublicKey(join(dir, "ed.jwk")).asymmetricKeyType).toBe("ed25519");
  });

  it("refuses other keys and unreadable files with CONFIG_INVALID", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(join(dir, "rsa.pem"), rsa.privateKey.export({ type: "pkcs8", format: "pem" }));
    writeFileSync(join(dir, "junk.pem"), "not a key");
    expect(() => loadCheckpointSigner(join(dir, "rsa.pem"))).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID" }),
    );
    expect(() => loadCheckpointSigner(join(dir, "junk.pem"))).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID" }),
    );
    expect(() => loadCheckpointSigner(join(dir, "missing.pem"))).toThrow(/cannot read checkpoint private key/);
  });
});
