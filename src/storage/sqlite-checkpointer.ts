/**
 * Checkpoints SQLite WAL files off the writer threads. One thread per process holds a connection to
 * each registered database and, every interval, copies the committed WAL frames back into it
 * (`PRAGMA wal_checkpoint(PASSIVE)`: it never blocks a writer and never waits for one). Without it a
 * writer thread stops every thousand pages to do that copy and its fsync itself, in the middle of a
 * commit that callers are waiting for.
 *
 * A writer keeps an autocheckpoint of its own, raised to `WRITER_AUTOCHECKPOINT_PAGES`, as the bound
 * on the WAL: under a steady stream of commits a checkpoint from another connection never quite
 * reaches the end of the WAL, so the WAL only starts over after the writer's own checkpoint, which
 * then finds almost everything copied already. Durability is unchanged: a commit is in the WAL
 * before it is acknowledged, whoever copies it later.
 */

import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** How often each registered database is checkpointed. */
const INTERVAL_MS = 50;

/** The writers' own autocheckpoint, in pages (SQLite's default is 1000). */
export const WRITER_AUTOCHECKPOINT_PAGES = 4000;

const SOURCE = `"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.sqlite);
const open = new Map();
parentPort.on("message", (m) => {
  if (m.add !== undefined) {
    let entry = open.get(m.add);
    if (entry === undefined) {
      try {
        entry = { db: new Database(m.add, { fileMustExist: true }), refs: 0 };
      } catch {
        return; // the writer checkpoints by itself, as without this thread
      }
      open.set(m.add, entry);
    }
    entry.refs++;
  } else if (m.remove !== undefined) {
    const entry = open.get(m.remove);
    if (entry !== undefined && --entry.refs === 0) {
      open.delete(m.remove);
      entry.db.close();
    }
    parentPort.postMessage({ removed: m.id });
  }
});
setInterval(() => {
  for (const entry of open.values()) {
    try {
      entry.db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // busy or gone: the next round, or the writer's own checkpoint, copies it
    }
  }
}, workerData.intervalMs);
`;

class Checkpointer {
  private readonly worker: Worker;
  private files = 0;
  private nextId = 1;
  private readonly removals = new Map<number, () => void>();

  constructor() {
    this.worker = new Worker(SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { sqlite: createRequire(import.meta.url).resolve("better-sqlite3"), intervalMs: INTERVAL_MS },
    });
    this.worker.on("message", (m: { removed: number }) => {
      this.removals.get(m.removed)?.();
      this.removals.delete(m.removed);
      if (this.removals.size === 0) this.worker.unref();
    });
    this.worker.on("error", () => this.end());
    this.worker.on("exit", () => this.end());
    // Never what keeps a process alive (after the listeners: adding one refs the thread again).
    this.worker.unref();
  }

  add(file: string): void {
    this.files++;
    this.worker.postMessage({ add: file });
  }

  /** Resolves once the thread has let go of `file` (closed its connection when it was the last). */
  remove(file: string): Promise<void> {
    const id = this.nextId++;
    const removed = new Promise<void>((resolve) => this.removals.set(id, resolve));
    // A close waiting for the answer keeps the process alive until it comes.
    this.worker.ref();
    this.worker.postMessage({ remove: file, id });
    if (--this.files === 0) {
      // Nothing left to checkpoint: the thread ends once it has closed the last connection.
      if (shared === this) shared = undefined;
      void removed.then(() => this.worker.terminate());
    }
    return removed;
  }

  private end(): void {
    if (shared === this) shared = undefined;
    for (const resolve of this.removals.values()) resolve();
    this.removals.clear();
  }
}

let shared: Checkpointer | undefined;

/**
 * Checkpoints `file` (a WAL database) from the shared thread until the returned function is called;
 * that function resolves once the thread's connection to it is closed.
 */
export function checkpointInBackground(file: string): () => Promise<void> {
  shared ??= new Checkpointer();
  const checkpointer = shared;
  checkpointer.add(file);
  let removed: Promise<void> | undefined;
  return () => {
    removed ??= checkpointer.remove(file);
    return removed;
  };
}
