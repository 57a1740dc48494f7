/**
 * A group-commit writer thread for one SQLite file: the main thread queues statement runs, and a
 * worker thread commits each event-loop turn's runs as one transaction, so SQLite's write cost is
 * paid off the main thread. Reads stay on the caller's own connection (WAL: a commit is visible to
 * it as soon as the acknowledgement arrives).
 */

import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { checkpointInBackground, WRITER_AUTOCHECKPOINT_PAGES } from "./sqlite-checkpointer.js";
import { SQLITE_WRITER_WORKER_SOURCE } from "./sqlite-writer-worker.js";
import { type TextRegion, TextRing } from "./text-ring.js";

export type SqlParam = string | number | bigint | null;
/** One statement run: the statement's name (a key of `statements`), then its parameters. */
export type WriteOp = readonly [name: string, ...params: SqlParam[]];

/** The op name that hands its parameters to the writer's builder instead of running a statement. */
export const BUILD = "build";

/** A prepared statement as a builder sees it. */
export interface BuilderStatement {
  run(...params: SqlParam[]): unknown;
}

/**
 * Code that runs where the batch commits (on the writer thread): it turns each `BUILD` op's
 * parameters into statement runs, and may keep state across batches (e.g. the head of a hash chain),
 * so that work is done off the main thread too.
 */
export interface WriteBuilder {
  /** A batch's transaction has begun. */
  begin(): void;
  /** Runs one `BUILD` op inside the transaction; throwing rolls the whole batch back. */
  build(params: readonly SqlParam[], statements: Readonly<Record<string, BuilderStatement>>): void;
  /** The batch was rolled back: undo what `build` changed since `begin`. */
  rollback(): void;
  /** Sent back with a committed batch's acknowledgement (must survive structured cloning). */
  result(): unknown;
}

/** Where the writer thread finds its builder: a module exporting `createBuilder(options): WriteBuilder`. */
export interface BuilderSpec {
  /** `file:` URL of the module (a `.ts` source is loaded through tsx, for tests and development). */
  readonly module: string;
  /** Passed to `createBuilder`; structured-cloned into the thread. */
  readonly options: unknown;
}

export interface SqliteWriterOptions {
  /** Absolute path of the database file (not `:memory:`, which a thread cannot share). */
  readonly file: string;
  /** `journal_mode` is always WAL. */
  readonly synchronous: "NORMAL" | "FULL";
  /** Name → SQL, prepared once in the worker. */
  readonly statements: Readonly<Record<string, string>>;
  /** Most ops pushed and not yet acknowledged; `push` waits for room beyond it. Default 100 000. */
  readonly maxQueuedOps?: number;
  /** Names the writer in error messages, e.g. `audit` or `state`. */
  readonly label?: string;
  /**
   * A batch is sent as soon as it holds this many ops, without waiting for the turn to end, so the
   * thread commits the first decisions of a busy turn while the main thread computes the rest.
   * Default 256.
   */
  readonly maxBatchOps?: number;
  /** Code run on the writer thread for `BUILD` ops. */
  readonly builder?: BuilderSpec;
}

/** What an adapter writes its batches through: a `SqliteWriter`, or an `InlineSqliteWriter` for `:memory:`. */
export interface BatchWriter {
  /**
   * Runs `ops` in one transaction with the others of its batch; resolves once committed, with the
   * builder's `result()` after that batch (undefined without a builder).
   */
  push(ops: readonly WriteOp[], options?: PushOptions): Promise<unknown>;
  /** Resolves when everything pushed so far is committed (or has failed). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** A writer failure: the file and, where one is to blame, the statement. */
export class SqliteWriterError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly statement?: string,
  ) {
    super(message);
    this.name = "SqliteWriterError";
  }
}

interface Batch {
  readonly id: number;
  /** Flat: statement index, parameter count, parameters, repeated. */
  readonly ops: (SqlParam | undefined)[];
  /** Where the batch's strings sit in the shared text buffer while it is in flight. */
  region?: TextRegion;
  count: number;
  /** Run only if the batch sent before it committed (see `PushOptions`). */
  afterPrevious: boolean;
  readonly done: Promise<unknown>;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
}

export interface PushOptions {
  /**
   * The ops build on the batch sent before theirs (e.g. a hash chain continued before the previous
   * link is acknowledged): their batch runs only if that batch committed, and fails otherwise.
   */
  readonly afterPrevious?: boolean;
  /**
   * Send the ops as a batch of their own, at once, instead of joining this turn's batch: for a
   * caller that batches already (a group commit), so that its batches pipeline on the thread
   * rather than merge into one the main thread then waits for whole.
   */
  readonly alone?: boolean;
}

interface RoomWaiter {
  readonly ops: readonly WriteOp[];
  readonly options: PushOptions;
  readonly resolve: (committed: Promise<unknown>) => void;
  readonly reject: (err: Error) => void;
}

type Ack = { readonly id: number; readonly error?: string; readonly result?: unknown };
type Ready =
  | { readonly ready: true }
  | { readonly failed: { step: string; statement: string | null; message: string } };

const DEFAULT_MAX_QUEUED_OPS = 100_000;
const DEFAULT_MAX_BATCH_OPS = 256;
/**
 * Size of the buffer shared with the worker for a batch's strings. Cloning many strings through
 * `postMessage` cost the main thread about as much as half the SQLite work it moved away; writing
 * them as UTF-8 into shared memory costs a fraction of that. A batch that does not fit is cloned.
 */
const TEXT_BUFFER_BYTES = 4 * 1024 * 1024;

export class SqliteWriter implements BatchWriter {
  private readonly index = new Map<string, number>();
  private readonly maxQueuedOps: number;
  private readonly maxBatchOps: number;
  private readonly label: string;
  /** Sent and not yet acknowledged, in send order. */
  private readonly sent = new Map<number, Batch>();
  private readonly roomWaiters: RoomWaiter[] = [];
  private lastSent: Batch | undefined;
  private current: Batch | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private nextId = 1;
  private pending = 0;
  private dead: Error | undefined;
  private closing: Promise<void> | undefined;
  private readonly exited: Promise<void>;

  private readonly ring: TextRing;
  /** Stops the background checkpoints of this file; resolves once that thread let go of it. */
  private readonly stopCheckpoints: () => Promise<void>;

  private constructor(
    private readonly worker: Worker,
    private readonly options: SqliteWriterOptions,
    private readonly text: Buffer,
  ) {
    this.label = options.label ?? "sqlite";
    this.ring = new TextRing(text.length);
    this.stopCheckpoints = checkpointInBackground(options.file);
    this.maxQueuedOps = Math.max(1, options.maxQueuedOps ?? DEFAULT_MAX_QUEUED_OPS);
    this.maxBatchOps = Math.max(1, options.maxBatchOps ?? DEFAULT_MAX_BATCH_OPS);
    for (const [i, name] of Object.keys(options.statements).entries()) this.index.set(name, i);
    if (options.builder) this.index.set(BUILD, -1);
    worker.on("message", (ack: Ack) => this.acknowledge(ack));
    // An idle writer does not keep the process alive (as a main-thread connection would not);
    // one with commits pending does, until they are acknowledged.
    worker.unref();
    this.exited = new Promise<void>((resolve) => {
      worker.once("exit", (code) => {
        this.die(
          new SqliteWriterError(
            `${this.label} writer thread for "${options.file}" ended (exit code ${code})${this.closing ? " after close" : ""}`,
            options.file,
          ),
        );
        resolve();
      });
    });
    worker.on("error", (err) => {
      this.die(
        new SqliteWriterError(`${this.label} writer thread for "${options.file}" failed: ${err.message}`, options.file),
      );
    });
  }

  /**
   * Starts the worker, opens the database (WAL, the given `synchronous`, `busy_timeout` 5000) and
   * prepares every statement. Rejects with an error naming the file, and the statement if one fails.
   */
  static open(options: SqliteWriterOptions): Promise<SqliteWriter> {
    const label = options.label ?? "sqlite";
    const names = Object.keys(options.statements);
    if (options.builder && names.includes(BUILD)) {
      return Promise.reject(
        new SqliteWriterError(
          `${label} writer: "${BUILD}" names the builder's ops, not a statement`,
          options.file,
          BUILD,
        ),
      );
    }
    const shared = new SharedArrayBuffer(TEXT_BUFFER_BYTES);
    const worker = new Worker(SQLITE_WRITER_WORKER_SOURCE, {
      eval: true,
      // The worker is plain CommonJS text: none of the parent's flags apply to it, and some break it
      // (`--input-type=module` makes `require` undefined; a TypeScript loader would only slow it down).
      execArgv: [],
      workerData: {
        sqlite: createRequire(import.meta.url).resolve("better-sqlite3"),
        file: options.file,
        synchronous: options.synchronous,
        names,
        sql: names.map((n) => options.statements[n]),
        text: shared,
        autocheckpoint: WRITER_AUTOCHECKPOINT_PAGES,
        ...(options.builder ? { builder: builderData(options.builder) } : {}),
      },
    });
    return new Promise<SqliteWriter>((resolve, reject) => {
      const fail = (message: string, statement?: string): void => {
        cleanup();
        void worker.terminate();
        reject(new SqliteWriterError(message, options.file, statement));
      };
      const onMessage = (m: Ready): void => {
        if ("ready" in m) {
          cleanup();
          resolve(new SqliteWriter(worker, options, Buffer.from(shared)));
        } else if (m.failed.statement !== null) {
          fail(
            `${label} writer cannot prepare statement "${m.failed.statement}" on "${options.file}": ${m.failed.message}`,
            m.failed.statement,
          );
        } else {
          fail(`${label} writer cannot open "${options.file}" (${m.failed.step}): ${m.failed.message}`);
        }
      };
      const onError = (err: Error): void => fail(`${label} writer cannot open "${options.file}": ${err.message}`);
      const onExit = (code: number): void =>
        fail(`${label} writer thread for "${options.file}" ended while opening (exit code ${code})`);
      const cleanup = (): void => {
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
      };
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
    });
  }

  /** Ops pushed and not yet acknowledged (for metrics). */
  get depth(): number {
    return this.pending;
  }

  /** Batches sent to the worker and not yet acknowledged (more than one while pipelining). */
  get inFlight(): number {
    return this.sent.size;
  }

  /**
   * Queues ops; all ops pushed in one event-loop turn go to the worker as one message and run in one
   * transaction, in push order. Resolves when that transaction has committed; rejects every caller
   * of the batch if it failed (the whole batch is rolled back).
   */
  async push(ops: readonly WriteOp[], options: PushOptions = {}): Promise<unknown> {
    if (this.closing)
      throw new SqliteWriterError(`${this.label} writer for "${this.options.file}" is closed`, this.options.file);
    if (this.dead) throw this.dead;
    for (const op of ops) {
      if (!this.index.has(op[0])) {
        throw new SqliteWriterError(
          `${this.label} writer has no statement "${op[0]}" for "${this.options.file}"`,
          this.options.file,
          op[0],
        );
      }
    }
    // Backpressure, first come first served: wait while the queue is full or others wait before us.
    if (this.roomWaiters.length > 0 || (this.pending > 0 && this.pending + ops.length > this.maxQueuedOps)) {
      return new Promise<unknown>((resolve, reject) => this.roomWaiters.push({ ops, options, resolve, reject }));
    }
    return this.join(ops, options);
  }

  /** Resolves when everything pushed so far is committed (or has failed). */
  async flush(): Promise<void> {
    for (;;) {
      this.send();
      const last = this.lastSent;
      if (!last || !this.sent.has(last.id)) return;
      await last.done.catch(() => {});
    }
  }

  /** Flushes, then closes the database and ends the worker; idempotent, and resolves after a failure too. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.worker.ref();
      await this.flush();
      if (!this.dead) this.worker.postMessage(null);
      await this.exited;
      await this.stopCheckpoints();
    })();
    return this.closing;
  }

  /** Ends the worker at once (no flush): what is not acknowledged rejects. For emergencies and tests. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
    // The thread's end releases the background checkpoints too (`die`), without waiting for it.
    await this.exited;
  }

  /** The batch this turn's pushes join; sent on the next turn (or by `flush`). */
  private batchOfTurn(): Batch {
    if (this.current) return this.current;
    let resolve!: (result: unknown) => void;
    let reject!: (err: Error) => void;
    const done = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const batch: Batch = { id: this.nextId++, ops: [], count: 0, afterPrevious: false, done, resolve, reject };
    this.current = batch;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.send();
    });
    return batch;
  }

  /** Adds `ops` to this turn's batch; returns the batch's commit. */
  private join(ops: readonly WriteOp[], options: PushOptions): Promise<unknown> {
    if (options.alone) this.send();
    const batch = this.batchOfTurn();
    if (options.afterPrevious) batch.afterPrevious = true;
    const flat = batch.ops;
    for (const op of ops) {
      flat.push(this.index.get(op[0]) as number, op.length - 1);
      for (let p = 1; p < op.length; p++) flat.push(op[p] as SqlParam);
    }
    batch.count += ops.length;
    if (this.pending === 0) this.worker.ref();
    this.pending += ops.length;
    if (options.alone || batch.count >= this.maxBatchOps) this.send();
    return batch.done;
  }

  private send(): void {
    const batch = this.current;
    if (!batch) return;
    this.current = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    if (this.dead) {
      this.settle(batch, this.dead);
      return;
    }
    this.sent.set(batch.id, batch);
    this.lastSent = batch;
    this.worker.postMessage(this.message(batch));
  }

  /**
   * The batch as posted: `[id, ops]`, or `[id, ops, lengths, start]` when its strings were written
   * to the shared buffer from `start` (each string is then `undefined` in `ops`, its UTF-8 byte
   * length in `lengths`).
   */
  private message(batch: Batch): unknown[] {
    const ops = batch.ops;
    let chars = 0;
    for (const op of ops) if (typeof op === "string") chars += op.length;
    if (chars === 0) return [batch.id, ops, undefined, undefined, batch.afterPrevious];
    const start = this.ring.reserve(chars * 3); // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (start === undefined) return [batch.id, ops, undefined, undefined, batch.afterPrevious];
    const lengths: number[] = [];
    let at = start;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (typeof op !== "string") continue;
      const n = this.text.write(op, at, "utf8");
      lengths.push(n);
      at += n;
      ops[i] = undefined;
    }
    batch.region = this.ring.hold(start, at);
    return [batch.id, ops, lengths, start, batch.afterPrevious];
  }

  private acknowledge(ack: Ack): void {
    const batch = this.sent.get(ack.id);
    if (!batch) return;
    this.sent.delete(ack.id);
    if (batch.region) this.ring.release();
    this.settle(
      batch,
      ack.error === undefined ? undefined : new SqliteWriterError(ack.error, this.options.file),
      ack.result,
    );
  }

  private settle(batch: Batch, error: Error | undefined, result?: unknown): void {
    this.pending -= batch.count;
    if (this.pending === 0 && !this.closing) this.worker.unref();
    if (error) batch.reject(error);
    else batch.resolve(result);
    this.wakeWaiters();
  }

  /** Lets waiting pushes join, in order, while they fit (one at least when nothing is queued). */
  private wakeWaiters(): void {
    for (;;) {
      const next = this.roomWaiters[0];
      if (!next || (this.pending > 0 && this.pending + next.ops.length > this.maxQueuedOps)) return;
      this.roomWaiters.shift();
      next.resolve(this.join(next.ops, next.options));
    }
  }

  private die(error: Error): void {
    if (this.dead) return;
    this.dead = error;
    this.ring.clear();
    for (const batch of [...this.sent.values()]) {
      this.sent.delete(batch.id);
      this.settle(batch, error);
    }
    this.send();
    for (const waiter of this.roomWaiters.splice(0)) waiter.reject(error);
    void this.stopCheckpoints();
  }
}

/** The builder as the thread receives it; a `.ts` module also needs the TypeScript loader's path. */
function builderData(spec: BuilderSpec): { module: string; options: unknown; tsx?: string } {
  if (!spec.module.endsWith(".ts")) return { module: spec.module, options: spec.options };
  // Only a checkout running from source (tests, `tsx`) names a .ts module; tsx is then installed.
  // Its ES-module API (the CommonJS one resolves its hooks from the wrong place inside a worker).
  const api = createRequire(import.meta.url)
    .resolve("tsx/esm/api")
    .replace(/\.cjs$/, ".mjs");
  return { module: spec.module, options: spec.options, tsx: pathToFileURL(api).href };
}
