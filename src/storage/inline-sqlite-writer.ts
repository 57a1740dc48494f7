/**
 * The writer for a database no thread can share (`:memory:`, used by tests and throwaway stores):
 * the same named statements and batches as `SqliteWriter`, run at once, one transaction per `push`,
 * on the caller's own connection. Adapters take one or the other behind `BatchWriter`.
 */

import type Database from "better-sqlite3";
import type { BatchWriter, WriteOp } from "./sqlite-writer.js";

export class InlineSqliteWriter implements BatchWriter {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly run: Database.Transaction<(ops: readonly WriteOp[]) => void>;

  constructor(db: Database.Database, statements: Readonly<Record<string, string>>) {
    for (const [name, sql] of Object.entries(statements)) this.statements.set(name, db.prepare(sql));
    this.run = db.transaction((ops: readonly WriteOp[]) => {
      for (const [name, ...params] of ops) {
        const statement = this.statements.get(name);
        if (!statement) throw new Error(`no statement "${name}"`);
        statement.run(...params);
      }
    });
  }

  /** Runs `ops` in one immediate transaction; a batch always follows a committed one, so order options have nothing to wait for. */
  push(ops: readonly WriteOp[]): Promise<void> {
    try {
      this.run.immediate(ops);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
