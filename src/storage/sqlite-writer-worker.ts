/**
 * The writer thread's code, as plain JavaScript text: it runs through `new Worker(source, { eval: true })`,
 * so it needs no TypeScript loader under tests and no separate file next to the compiled output
 * (an optional builder module is the exception: a `.ts` one is loaded through tsx).
 *
 * Protocol (every message is plain arrays and primitives, cheap to structured-clone):
 * - in:  `workerData` = `{ sqlite, file, synchronous, autocheckpoint, names, sql, text }` (`sqlite` is the resolved path of
 *   better-sqlite3, `names[i]` / `sql[i]` are the statements, in the order batches index them).
 * - out, once: `{ ready: true }`, or `{ failed: { step, statement, message } }` and the thread ends.
 * - in:  `[id, ops, lengths, start, afterPrevious]` with `ops` flat: statement index, parameter
 *   count, parameters, repeated. When `lengths` is set, each string parameter is `undefined` in `ops`
 *   and its UTF-8 bytes follow one another in the shared `text` buffer from `start`, their lengths in
 *   `lengths`. The batch runs in one `BEGIN IMMEDIATE` … `COMMIT`; out: `{ id }`, or `{ id, error }`
 *   after a rollback. With `afterPrevious` set, a batch whose predecessor did not commit is not run
 *   (it builds on it). The main thread reuses the batch's bytes once the answer arrives.
 * - in:  `null`: close the database and end the thread.
 * - with `workerData.builder` = `{ module, options, tsx }`: the thread imports `module` (registering
 *   the TypeScript loader at `tsx` first when it is a `.ts` source file) and calls its
 *   `createBuilder(options)`. An op whose statement index is -1 is then handed to the builder's
 *   `build(params, statements)` (statements by name), inside the batch's transaction; the builder
 *   hears `begin()` before and `rollback()` after a failed batch, and the acknowledgement of a
 *   committed batch carries `result()`: `{ id, result }`.
 */

export const SQLITE_WRITER_WORKER_SOURCE = `"use strict";
const { parentPort, workerData } = require("node:worker_threads");

function messageOf(err) {
  return err && typeof err.message === "string" ? err.message : String(err);
}

async function main() {
  const Database = require(workerData.sqlite);
  const { file, synchronous, names, sql } = workerData;
  const text = Buffer.from(workerData.text);
  const statements = [];
  const named = {};
  let builder = null;
  let db;
  let step = "open";
  let statement = null;
  try {
    db = new Database(file);
    step = "journal_mode = WAL";
    db.pragma("journal_mode = WAL");
    step = "synchronous = " + synchronous;
    db.pragma("synchronous = " + synchronous);
    step = "busy_timeout = 5000";
    db.pragma("busy_timeout = 5000");
    // Checkpoints are copied by another thread; this bounds the WAL should that one fall behind.
    step = "wal_autocheckpoint = " + workerData.autocheckpoint;
    db.pragma("wal_autocheckpoint = " + workerData.autocheckpoint);
    step = "prepare";
    for (let i = 0; i < names.length; i++) {
      statement = names[i];
      statements.push(db.prepare(sql[i]));
      named[names[i]] = statements[i];
    }
    statement = null;
    if (workerData.builder) {
      step = "builder " + workerData.builder.module;
      if (workerData.builder.tsx) (await import(workerData.builder.tsx)).register();
      const mod = await import(workerData.builder.module);
      builder = mod.createBuilder(workerData.builder.options);
    }
  } catch (err) {
    parentPort.postMessage({ failed: { step, statement, message: messageOf(err) } });
    if (db && db.open) db.close();
    parentPort.close();
    return;
  }
  const begin = db.prepare("BEGIN IMMEDIATE");
  const commit = db.prepare("COMMIT");
  const rollback = db.prepare("ROLLBACK");

  let previousCommitted = true;
  parentPort.on("message", (message) => {
    if (message === null) {
      db.close();
      parentPort.close();
      return;
    }
    const id = message[0];
    const ops = message[1];
    const lengths = message[2];
    let at = message[3];
    let s = 0;
    if (message[4] && !previousCommitted) {
      parentPort.postMessage({ id, error: "not run: the batch before it, which it builds on, did not commit" });
      return;
    }
    previousCommitted = false;
    try {
      begin.run();
      if (builder) builder.begin();
      for (let i = 0; i < ops.length; ) {
        const n = ops[i + 1];
        const params = ops.slice(i + 2, i + 2 + n);
        if (lengths !== undefined) {
          for (let p = 0; p < n; p++) {
            if (params[p] !== undefined) continue;
            const end = at + lengths[s++];
            params[p] = text.toString("utf8", at, end);
            at = end;
          }
        }
        if (ops[i] === -1) builder.build(params, named);
        else statements[ops[i]].run(...params);
        i += 2 + n;
      }
      commit.run();
      previousCommitted = true;
      parentPort.postMessage(builder ? { id, result: builder.result() } : { id });
    } catch (err) {
      if (db.inTransaction) rollback.run();
      if (builder) builder.rollback();
      parentPort.postMessage({ id, error: messageOf(err) });
    }
  });
  parentPort.postMessage({ ready: true });
}

main().catch((err) => {
  parentPort.postMessage({ failed: { step: "start", statement: null, message: messageOf(err) } });
  parentPort.close();
});
`;
