/** Background WAL checkpoints for the writer threads, against real database files. */

import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WRITER_AUTOCHECKPOINT_PAGES } from "../../src/storage/sqlite-checkpointer.js";
import { SqliteWriter, type WriteOp } from "../../src/storage/sqlite-writer.js";

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "signalbox-checkpointer-"));
  file = join(dir, "w.db");
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE notes (n INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)");
  db.close();
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

describe("background checkpoints", () => {
  it("copy a writer's commits into the database file without the writer checkpointing itself", async () => {
    const w = await SqliteWriter.open({
      file,
      synchronous: "NORMAL",
      statements: { note: "INSERT INTO notes (body) VALUES (?)" },
    });
    const before = statSync(file).size;
    // About 250 pages: far below the writer's own autocheckpoint, so only the background thread copies them.
    const ops: WriteOp[] = Array.from({ length: 250 }, (_, i) => ["note", `${i}:${"x".repeat(4000)}`]);
    expect(250).toBeLessThan(WRITER_AUTOCHECKPOINT_PAGES);
    await w.push(ops);
    expect(await until(() => statSync(file).size >= before + 250 * 4000, 3000)).toBe(true);
    await w.close();
    // Every connection is closed: the last one folded the WAL into the file and removed it.
    expect(existsSync(`${file}-wal`)).toBe(false);
    const db = new Database(file, { readonly: true });
    expect((db.prepare("SELECT COUNT(*) AS n FROM notes").get() as { n: number }).n).toBe(250);
    db.close();
  });
});
