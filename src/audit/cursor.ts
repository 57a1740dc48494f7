/** The opaque query cursor: the last `(event_ms, writer_id, seq)` a page returned. */

import { SignalboxError } from "../errors/signalbox-error.js";
import type { StoredRow } from "./store.js";

export type CursorKey = readonly [number, string, number];

export function encodeCursor(row: Pick<StoredRow, "event_ms" | "writer_id" | "seq">): string {
  return Buffer.from(JSON.stringify([row.event_ms, row.writer_id, row.seq])).toString("base64url");
}

export function decodeCursor(cursor: string | undefined): CursorKey | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      typeof value[0] === "number" &&
      typeof value[1] === "string" &&
      typeof value[2] === "number"
    ) {
      return [value[0], value[1], value[2]];
    }
  } catch {
    // reported below with the cursor quoted
  }
  throw new SignalboxError("INVALID_REQUEST", `audit cursor "${cursor}" is not a cursor this store returned`);
}
