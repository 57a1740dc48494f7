/** The one audit conformance suite: every clause of the audit contract, run against each store. */

import { generateKeyPairSync } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { chainRecord } from "../../src/audit/chain.js";
import { ChainedAuditTrail, type ChainedTrailOptions } from "../../src/audit/chained-trail.js";
import { decisionRecord } from "../../src/audit/record.js";
import { insertRecords, rowParams } from "../../src/audit/sql.js";
import type { AuditBackend, AuditFilter, StoredRow } from "../../src/audit/store.js";
import { rowOfRecord } from "../../src/audit/stored-row.js";
import { verifyChain } from "../../src/audit/verify-chain.js";
import { decisionId, type EntrySpec, makeEntry, T0 } from "./fixtures.js";

/** One store under test: backends on the same data, and raw SQL as an attacker with access would run it. */
export interface AuditStoreHarness {
  /** A new backend on the same store (each trail closes its own). */
  open(): Promise<AuditBackend>;
  /** Raw SQL with `?` placeholders against the same store. */
  exec(sql: string, params?: readonly (string | number | null)[]): Promise<void>;
  /** Removes everything the harness created. */
  cleanup(): Promise<void>;
}

const W = "node-a";

export function runAuditConformance(name: string, make: () => Promise<AuditStoreHarness>): void {
  describe(`audit conformance: ${name}`, () => {
    let harness: AuditStoreHarness;
    const open: ChainedAuditTrail[] = [];

    async function trail(options: Partial<ChainedTrailOptions> = {}): Promise<ChainedAuditTrail> {
      harness ??= await make();
      const t = await ChainedAuditTrail.open(await harness.open(), {
        writerId: W,
        maskKey: "test-mask-key",
        maxDelayMs: 1,
        ...options,
      });
      open.push(t);
      return t;
    }

    async function fill(t: ChainedAuditTrail, specs: readonly EntrySpec[]): Promise<void> {
      for (const s of specs) await t.recordDecision(makeEntry(s));
    }

    async function rows(t: ChainedAuditTrail, writer = W): Promise<StoredRow[]> {
      const out: StoredRow[] = [];
      for await (const r of t.iterate(writer)) out.push(r);
      return out;
    }

    async function all(t: ChainedAuditTrail, filter: AuditFilter, limit: number): Promise<string[]> {
      const ids: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await t.query(filter, cursor, limit);
        expect(page.records.length).toBeLessThanOrEqual(limit);
        ids.push(...page.records.map((r) => r.decision_id ?? `checkpoint:${r.seq}`));
        cursor = page.next;
        pages++;
      } while (cursor && pages < 100);
      return ids;
    }

    afterEach(async () => {
      for (const t of open.splice(0)) await t.close();
      if (harness) await harness.cleanup();
      harness = undefined as unknown as AuditStoreHarness;
    });

    it("records a decision and reads it back with its outcomes", async () => {
      const t = await trail();
      const entries = [1, 2, 3].map((n) => makeEntry({ n, session: "shared-session" }));
      for (const e of entries) await t.recordDecision(e);
      await t.recordOutcome({ decisionId: decisionId(2), outcome: "step_up_passed", wallTime: T0 + 9000 });
      await t.recordOutcome({ decisionId: decisionId(2), outcome: "approved", wallTime: T0 + 9500 });

      const got = await t.getDecision(decisionId(2));
      expect(got?.entry.decision).toEqual(entries[1]?.decision);
      expect(got?.entry.engineVersion).toBe("0.1.0-test");
      expect(got?.entry.wallTime).toBe(entries[1]?.wallTime);
      expect(got?.outcomes.map((o) => o.outcome)).toEqual(["step_up_passed", "approved"]);
      expect(got?.outcomes[0]?.wallTime).toBe(T0 + 9000);
      expect((await t.getDecision(decisionId(1)))?.outcomes).toEqual([]);
      expect(await t.getDecision("no-such-decision")).toBeUndefined();

      // Default mask: token and session ids become keyed hashes that still correlate.
      const ctx = (r: typeof got) => r?.entry.request.context as { session: { id: string }; token: { jti: string } };
      const one = await t.getDecision(decisionId(1));
      expect(ctx(got).session.id).toMatch(/^sha256:[0-9a-f]{16}$/);
      expect(ctx(got).session.id).toBe(ctx(one).session.id);
      expect(ctx(got).token.jti).toMatch(/^sha256:[0-9a-f]{16}$/);
      expect(ctx(got).token.jti).not.toBe(ctx(one).token.jti);
      expect(got?.entry.request.context?.ip).toBe("203.0.113.2");
      expect(entries[1]?.request.context?.session?.id).toBe("shared-session");
    });

    it("masks the configured fields", async () => {
      const t = await trail({
        mask: ["context.token", "context.session.id", "subject.properties.email", "context.ip"],
      });
      await t.recordDecision(makeEntry({ n: 1 }));
      const got = await t.getDecision(decisionId(1));
      const request = got?.entry.request;
      expect(request?.context?.ip).toMatch(/^sha256:[0-9a-f]{16}$/);
      expect(request?.context?.token).toMatch(/^sha256:[0-9a-f]{16}$/);
      expect(request?.subject.properties?.email).toMatch(/^sha256:[0-9a-f]{16}$/);
      expect(request?.subject.id).toBe("u1");
    });

    it("keeps records in order per writer, also when many are recorded at once", async () => {
      const t = await trail({ maxBatch: 8 });
      await Promise.all(Array.from({ length: 50 }, (_, i) => t.recordDecision(makeEntry({ n: i + 1 }))));
      const stored = await rows(t);
      expect(stored.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      // Each record links to the one before it.
      for (let i = 1; i < stored.length; i++) expect(stored[i]?.prev_hash).toBe(stored[i - 1]?.hash);
      // Calls made in order are committed in that order.
      expect(stored.map((r) => r.decision_id)).toEqual(Array.from({ length: 50 }, (_, i) => decisionId(i + 1)));
      expect(t.queueDepth).toBe(0);
      expect(await verifyChain(t)).toMatchObject({ ok: true, checked: 50 });
    });

    it("continues a writer's chain after reopening, and close flushes", async () => {
      const first = await trail();
      const pending = [1, 2, 3].map((n) => first.recordDecision(makeEntry({ n })));
      await first.close();
      await Promise.all(pending);
      const second = await trail();
      await second.recordDecision(makeEntry({ n: 4 }));
      expect((await rows(second)).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
      expect(await verifyChain(second)).toMatchObject({ ok: true, checked: 4 });
    });

    it("queries by subject, segment, control path, time range and reason, page by page", async () => {
      const t = await trail();
      const specs: EntrySpec[] = Array.from({ length: 30 }, (_, i) => ({
        n: i + 1,
        subject: `u${i % 4}`,
        segment: i % 3 === 0 ? "machines" : "workforce",
        path: (["allow", "step_up", "deny", "throttle"] as const)[i % 4],
        reasons: i % 5 === 0 ? ["new_device", "impossible_travel"] : ["newXdevice"],
        // Recorded out of event-time order: queries still come back in time order.
        time: T0 + ((i * 7) % 30) * 1000,
      }));
      await fill(t, specs);
      await t.recordOutcome({ decisionId: decisionId(1), outcome: "approved", wallTime: T0 + 99_000 });
      const expectIds = (pick: (s: EntrySpec, i: number) => boolean) =>
        specs
          .filter(pick)
          .sort((a, b) => (a.time ?? 0) - (b.time ?? 0))
          .map((s) => decisionId(s.n));

      expect(await all(t, { kind: "decision" }, 7)).toEqual(expectIds(() => true));
      expect(await all(t, { subject: "user:u2" }, 3)).toEqual(expectIds((_, i) => i % 4 === 2));
      expect(await all(t, { segment: "machines" }, 4)).toEqual(expectIds((_, i) => i % 3 === 0));
      expect(await all(t, { controlPath: "step_up" }, 2)).toEqual(expectIds((_, i) => i % 4 === 1));
      expect(await all(t, { from: T0 + 10_000, to: T0 + 20_000 }, 4)).toEqual(
        expectIds((s) => (s.time ?? 0) >= T0 + 10_000 && (s.time ?? 0) < T0 + 20_000),
      );
      // `_` in a reason code is literal: `newXdevice` must not match `new_device`.
      expect(await all(t, { reason: "new_device" }, 2)).toEqual(expectIds((_, i) => i % 5 === 0));
      expect(await all(t, { reason: "impossible_travel", segment: "machines" }, 5)).toEqual(
        expectIds((_, i) => i % 5 === 0 && i % 3 === 0),
      );
      expect(await all(t, { kind: "outcome" }, 5)).toEqual([decisionId(1)]);
      expect(await all(t, { subject: "user:nobody" }, 5)).toEqual([]);
      await expect(t.query({}, "not-a-cursor")).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    });

    it("verifies an untouched trail", async () => {
      const t = await trail();
      await fill(
        t,
        [1, 2, 3, 4, 5].map((n) => ({ n })),
      );
      await t.recordOutcome({ decisionId: decisionId(3), outcome: "rejected", wallTime: T0 + 10_000 });
      const result = await verifyChain(t);
      expect(result).toEqual({ ok: true, checked: 6, writers: [W] });
    });

    describe("tampering is detected and named", () => {
      async function tenRecords(): Promise<{ t: ChainedAuditTrail; stored: StoredRow[] }> {
        const t = await trail();
        await fill(
          t,
          Array.from({ length: 10 }, (_, i) => ({ n: i + 1, path: "deny" as const })),
        );
        return { t, stored: await rows(t) };
      }

      it("a modified record", async () => {
        const { t, stored } = await tenRecords();
        const row = stored[3] as StoredRow;
        await harness.exec("UPDATE audit_records SET body = ? WHERE writer_id = ? AND seq = ?", [
          row.body.replace('"control_path":"deny"', '"control_path":"allow"'),
          W,
          4,
        ]);
        const result = await verifyChain(t);
        expect(result.ok).toBe(false);
        expect(result.firstBroken).toMatchObject({ writer: W, seq: 4, decisionId: decisionId(4), problem: "modified" });
      });

      it("a modified and re-hashed record", async () => {
        const { t, stored } = await tenRecords();
        const original = JSON.parse((stored[5] as StoredRow).body);
        const { hash: _h, seq: _s, writer_id: _w, prev_hash: _p, ...rest } = original;
        const forged = chainRecord({ ...rest, control_path: "allow", decision: true }, W, {
          seq: 5,
          hash: (stored[4] as StoredRow).hash,
        });
        const row = rowOfRecord(forged);
        await harness.exec(
          "UPDATE audit_records SET body = ?, hash = ?, control_path = ? WHERE writer_id = ? AND seq = ?",
          [row.body, row.hash, row.control_path, W, 6],
        );
        expect((await verifyChain(t)).firstBroken).toMatchObject({
          seq: 6,
          decisionId: decisionId(6),
          problem: "modified",
        });
      });

      it("a deleted record", async () => {
        const { t } = await tenRecords();
        await harness.exec("DELETE FROM audit_records WHERE writer_id = ? AND seq = ?", [W, 5]);
        expect((await verifyChain(t)).firstBroken).toMatchObject({ seq: 5, problem: "deleted" });
      });

      it("an inserted record", async () => {
        const { t, stored } = await tenRecords();
        await harness.exec("UPDATE audit_records SET seq = seq + 1000000 WHERE writer_id = ? AND seq > ?", [W, 7]);
        await harness.exec("UPDATE audit_records SET seq = seq - 999999 WHERE writer_id = ? AND seq > ?", [W, 1000000]);
        const forged = chainRecord(decisionRecord(makeEntry({ n: 99 }), { mask: (r) => r }), W, {
          seq: 7,
          hash: (stored[6] as StoredRow).hash,
        });
        await harness.exec(insertRecords(1), rowParams(rowOfRecord(forged)));
        const result = await verifyChain(t);
        expect(result.firstBroken).toMatchObject({ seq: 8, decisionId: decisionId(99), problem: "inserted" });
      });

      it("two reordered records", async () => {
        const { t } = await tenRecords();
        await harness.exec("UPDATE audit_records SET seq = -1 WHERE writer_id = ? AND seq = ?", [W, 3]);
        await harness.exec("UPDATE audit_records SET seq = 3 WHERE writer_id = ? AND seq = ?", [W, 4]);
        await harness.exec("UPDATE audit_records SET seq = 4 WHERE writer_id = ? AND seq = ?", [W, -1]);
        expect((await verifyChain(t)).firstBroken).toMatchObject({
          seq: 3,
          decisionId: decisionId(3),
          problem: "reordered",
        });
      });

      it("an index column changed behind the record's back", async () => {
        const { t } = await tenRecords();
        await harness.exec("UPDATE audit_records SET control_path = ? WHERE writer_id = ? AND seq = ?", [
          "allow",
          W,
          2,
        ]);
        expect((await verifyChain(t)).firstBroken).toMatchObject({ seq: 2, problem: "modified" });
      });
    });

    describe("signed checkpoints", () => {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });

      it("anchor the chain and expose a truncated tail", async () => {
        const t = await trail({ checkpoints: { every: 5, signer: { alg: "ES256", key: privateKey } } });
        await fill(
          t,
          Array.from({ length: 12 }, (_, i) => ({ n: i + 1 })),
        );
        const stored = await rows(t);
        // 5 decisions, checkpoint, 5 decisions, checkpoint, 2 decisions.
        expect(stored.map((r) => r.kind)).toEqual([
          ...Array(5).fill("decision"),
          "checkpoint",
          ...Array(5).fill("decision"),
          "checkpoint",
          "decision",
          "decision",
        ]);
        expect(await verifyChain(t, { publicKey })).toEqual({ ok: true, checked: 14, writers: [W], unanchored: 2 });
        expect(await verifyChain(t)).toEqual({ ok: true, checked: 14, writers: [W] });

        // Cut the tail, including the last in-chain checkpoint: the stored signature still vouches for seq 11.
        await harness.exec("DELETE FROM audit_records WHERE writer_id = ? AND seq >= ?", [W, 9]);
        const result = await verifyChain(t, { publicKey });
        expect(result.ok).toBe(false);
        expect(result.firstBroken).toMatchObject({ seq: 9, problem: "truncated" });
        // Without the key there is nothing to vouch for the tail.
        expect((await verifyChain(t)).ok).toBe(true);
      });

      it("reject a checkpoint signed by another key", async () => {
        const other = generateKeyPairSync("ed25519");
        const t = await trail({ checkpoints: { every: 3, signer: { alg: "EdDSA", key: other.privateKey } } });
        await fill(
          t,
          [1, 2, 3].map((n) => ({ n })),
        );
        expect(await verifyChain(t, { publicKey: other.publicKey })).toMatchObject({ ok: true, unanchored: 0 });
        const result = await verifyChain(t, { publicKey });
        expect(result.firstBroken).toMatchObject({ seq: 4, problem: "modified" });
      });

      it("are written on close when records are unanchored", async () => {
        const t = await trail({ checkpoints: { every: 100, signer: { alg: "ES256", key: privateKey } } });
        await fill(
          t,
          [1, 2].map((n) => ({ n })),
        );
        await t.close();
        const reader = await trail();
        const stored = await rows(reader);
        expect(stored.map((r) => r.kind)).toEqual(["decision", "decision", "checkpoint"]);
        expect(await verifyChain(reader, { publicKey })).toMatchObject({ ok: true, unanchored: 0 });
      });
    });

    it("retention deletes old records and leaves a chain that still verifies", async () => {
      const t = await trail();
      await fill(
        t,
        Array.from({ length: 10 }, (_, i) => ({ n: i + 1, wallTime: T0 + i * 60_000 })),
      );
      const deleted = await t.deleteBefore(T0 + 4 * 60_000);
      expect(deleted).toBe(4);
      const stored = await rows(t);
      expect(stored.map((r) => r.seq)).toEqual([5, 6, 7, 8, 9, 10, 11]);
      expect(stored.at(-1)?.kind).toBe("checkpoint");
      expect(await t.getDecision(decisionId(4))).toBeUndefined();
      expect(await t.getDecision(decisionId(5))).toBeDefined();
      expect(await verifyChain(t)).toMatchObject({ ok: true, checked: 7 });
      await t.recordDecision(makeEntry({ n: 11, wallTime: T0 + 11 * 60_000 }));
      expect(await verifyChain(t)).toMatchObject({ ok: true, checked: 8 });

      // A record deleted after the cut is still noticed.
      await harness.exec("DELETE FROM audit_records WHERE writer_id = ? AND seq = ?", [W, 5]);
      expect((await verifyChain(t)).firstBroken).toMatchObject({ seq: 5, problem: "deleted" });
    });

    it("keeps one chain per writer in a shared store and verifies every chain", async () => {
      const a = await trail({ writerId: "node-a" });
      const b = await trail({ writerId: "node-b" });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).recordDecision(makeEntry({ n: i + 1 }))),
      );
      expect(await a.writers()).toEqual(["node-a", "node-b"]);
      expect(await verifyChain(a)).toEqual({ ok: true, checked: 20, writers: ["node-a", "node-b"] });
      expect((await rows(a, "node-b")).map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      await harness.exec("DELETE FROM audit_records WHERE writer_id = ? AND seq = ?", ["node-b", 2]);
      const result = await verifyChain(a);
      expect(result.firstBroken).toMatchObject({ writer: "node-b", seq: 2, problem: "deleted" });
      expect(await verifyChain(a, { writer: "node-a" })).toMatchObject({ ok: true, checked: 10 });
    });

    it("refuses a second process writing the same chain instead of forking it", async () => {
      const a = await trail({ writerId: "twin" });
      const b = await trail({ writerId: "twin" });
      await a.recordDecision(makeEntry({ n: 1 }));
      await expect(b.recordDecision(makeEntry({ n: 2 }))).rejects.toMatchObject({ code: "AUDIT_UNAVAILABLE" });
      // After the failure the writer reads the head again and continues the chain.
      await b.recordDecision(makeEntry({ n: 3 }));
      expect(await verifyChain(a)).toMatchObject({ ok: true, checked: 2 });
    });
  });
}
