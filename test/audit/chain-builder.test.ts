/** The chain builder the SQLite writer runs: it refuses links that would fork or skip the chain. */

import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { EMPTY_HEAD } from "../../src/audit/chain.js";
import { createBuilder } from "../../src/audit/chain-builder.js";
import { INSERT_CHECKPOINT, insertRecords, MIGRATIONS } from "../../src/audit/sql.js";
import { InlineSqliteWriter } from "../../src/storage/inline-sqlite-writer.js";
import { BUILD } from "../../src/storage/sqlite-writer.js";
import { makeEntry } from "./fixtures.js";

function writer(): { w: InlineSqliteWriter; db: Database.Database } {
  const db = new Database(":memory:");
  for (const statement of MIGRATIONS[0]?.statements ?? []) db.exec(statement);
  const builder = createBuilder({ writerId: "w", mask: [], maskKey: "k" });
  return { w: new InlineSqliteWriter(db, { record: insertRecords(1), anchor: INSERT_CHECKPOINT }, builder), db };
}

const decision = (n: number) => [BUILD, "decision", JSON.stringify(makeEntry({ n }))] as const;

describe("chain builder", () => {
  it("chains decisions after the head it was given and answers with the new head", async () => {
    const { w, db } = writer();
    const head = (await w.push([[BUILD, "head", EMPTY_HEAD.seq, EMPTY_HEAD.hash], decision(1), decision(2)])) as {
      seq: number;
      hash: string;
    };
    const stored = db.prepare("SELECT seq, hash, prev_hash FROM audit_records ORDER BY seq").all() as {
      seq: number;
      hash: string;
      prev_hash: string;
    }[];
    expect(stored.map((r) => r.seq)).toEqual([1, 2]);
    expect(stored[0]?.prev_hash).toBe(EMPTY_HEAD.hash);
    expect(stored[1]?.prev_hash).toBe(stored[0]?.hash);
    expect(head).toEqual({ seq: 2, hash: stored[1]?.hash });
  });

  it("refuses a record before any head, and a row that does not follow the head; the head is kept", async () => {
    const { w, db } = writer();
    await expect(w.push([decision(1)])).rejects.toThrow(/before the chain's head/);
    const head = (await w.push([[BUILD, "head", 0, EMPTY_HEAD.hash], decision(1)])) as { seq: number; hash: string };
    const row = ["w", 5, "decision", "x", 0, 0, null, null, null, null, 0, "h", "not-the-head", "{}"] as const;
    await expect(w.push([decision(2), [BUILD, "row", ...row]])).rejects.toThrow(/does not follow the chain's head 2/);
    await expect(w.push([[BUILD, "twig"]])).rejects.toThrow(/unknown link "twig"/);
    // The failed batches rolled back, and the builder's head with them.
    expect(await w.push([decision(2)])).toEqual({ seq: 2, hash: expect.any(String) });
    expect(head.seq).toBe(1);
    expect((db.prepare("SELECT COUNT(*) AS n FROM audit_records").get() as { n: number }).n).toBe(2);
  });
});
