/**
 * Builds a writer's chain where its rows commit: on the SQLite writer thread (loaded there by
 * `src/storage/sqlite-writer.ts`), or inline for `:memory:`. The main thread hands over each
 * decision as the JSON of its entry, and this code masks the request, serialises the canonical
 * body, chains it after the running head and hashes it: the most expensive part of auditing a
 * decision, now off the thread that answers requests.
 *
 * Links arrive as `BUILD` ops (see `ChainLink`): `head` sets where the chain continues, `decision`
 * and `record` are chained here, `row` is a row the main thread chained itself (a checkpoint, whose
 * signature needs the head). The head moves only with a committed batch: a rolled-back batch puts
 * it back.
 */

import type { BuilderStatement, WriteBuilder } from "../storage/sqlite-writer.js";
import type { ChainHead } from "./chain.js";
import { chainRecordWithBody } from "./chain.js";
import { decisionRow } from "./decision-row.js";
import { createMasker } from "./mask.js";
import type { DecisionEntry } from "./port.js";
import type { UnchainedRecord } from "./record.js";
import { anchorOfRow } from "./retention.js";
import { rowOfParams, rowParams } from "./sql.js";
import type { ChainBuilderOptions, StoredRow } from "./store.js";

export type { ChainBuilderOptions };

import { rowOfRecord } from "./stored-row.js";

/** The writer statements a chain builder runs (names of the SQLite audit backend's writer). */
export const CHAIN_STATEMENTS = { record: "record", anchor: "anchor" } as const;

export function createBuilder(options: ChainBuilderOptions): WriteBuilder {
  const mask = createMasker(options.mask, options.maskKey);
  let head: ChainHead | undefined;
  let before: ChainHead | undefined;

  const current = (): ChainHead => {
    if (head === undefined) throw new Error("audit chain builder: a record arrived before the chain's head");
    return head;
  };

  const insert = (row: StoredRow, statements: Readonly<Record<string, BuilderStatement>>): void => {
    (statements[CHAIN_STATEMENTS.record] as BuilderStatement).run(...rowParams(row));
    const anchor = anchorOfRow(row);
    if (anchor) (statements[CHAIN_STATEMENTS.anchor] as BuilderStatement).run(anchor.writer_id, anchor.seq, anchor.jws);
    head = { seq: row.seq, hash: row.hash };
  };

  return {
    begin() {
      before = head;
    },
    rollback() {
      head = before;
    },
    result() {
      return head;
    },
    build(params, statements) {
      switch (params[0]) {
        case "head":
          head = { seq: params[1] as number, hash: params[2] as string };
          return;
        case "decision": {
          const entry = JSON.parse(params[1] as string) as DecisionEntry;
          insert(decisionRow(entry, mask, options.writerId, current()), statements);
          return;
        }
        case "record": {
          const record = JSON.parse(params[1] as string) as UnchainedRecord;
          const { record: chained, body } = chainRecordWithBody(record, options.writerId, current());
          insert(rowOfRecord(chained, body), statements);
          return;
        }
        case "row": {
          const row = rowOfParams(params.slice(1));
          if (head !== undefined && (row.prev_hash !== head.hash || row.seq !== head.seq + 1)) {
            throw new Error(`audit chain builder: row ${row.seq} does not follow the chain's head ${head.seq}`);
          }
          insert(row, statements);
          return;
        }
        default:
          throw new Error(`audit chain builder: unknown link "${String(params[0])}"`);
      }
    },
  };
}
