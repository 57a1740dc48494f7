/**
 * Child process for the writer test: pushes one row without awaiting it and never closes the
 * writer; the process must still exit on its own, after the row is committed.
 */

import { SqliteWriter } from "../../src/storage/sqlite-writer.js";

const [file] = process.argv.slice(2);
if (!file) throw new Error("usage: writer-exit-process FILE");
const writer = await SqliteWriter.open({
  file,
  synchronous: "NORMAL",
  statements: { insert: "INSERT INTO items (k, v) VALUES (?, ?)" },
});
void writer.push([["insert", "from-child", 1]]);
