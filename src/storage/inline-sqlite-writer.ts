/**
 * The writer for a database no thread can share (`:memory:`, used by tests and throwaway stores):
 * the same named statements, builder and batches as `SqliteWriter`, run at once, one transaction per
 * `push`, on the caller's own connection. Adapters take one or the other behind `BatchWriter`.
 */

import type Database from "better-sqlite3";
import { type BatchWriter, BUILD, type WriteBuilder, type WriteOp } from "./sqlite-writer.js";

export class InlineSqliteWriter implements BatchWriter {
  private readonly statements: Record<string, Database.Statement> = {};
  private readonly run: Database.Transaction<(ops: readonly WriteOp[]) => void>;

  constructor(
    db: Database.Database,
    statements: Readonly<Record<string, string>>,
    private readonly builder?: WriteBuilder,
  ) {
    for (const [name, sql] of Object.entries(statements)) this.statements[name] = db.prepare(sql);
    this.run = db.transaction((ops: readonly WriteOp[]) => {
      for (const [name, ...params] of ops) {
        if (name === BUILD && builder) {
          builder.build(params, this.statements);
          continue;
        }
        const statement = Object.hasOwn(this.statements, name) ? this.statements[name] : undefined;
        if (!statement) throw new Error(`no statement "${name}"`);
        statement.run(...params);
      }
    });
  }

  /** Runs `ops` in one immediate transaction; a batch always follows a committed one, so order options have nothing to wait for. */
  push(ops: readonly WriteOp[]): Promise<unknown> {
    this.builder?.begin();
    try {
      this.run.immediate(ops);
      return Promise.resolve(this.builder?.result());
    } catch (err) {
      this.builder?.rollback();
      return Promise.reject(err);
    }
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
