/**
 * How a split Redis Cluster call (ADR 0020) reports parts that failed while others succeeded, so
 * that the batchers fail only the reads and writes with a key in a failed part.
 */

/**
 * Stands in a merged read reply for each entry of a part whose call failed, so that only the reads
 * with an entry in that part fail: one primary's outage need not fail the reads of the others.
 */
export class PartFailed {
  constructor(readonly error: unknown) {}
}

/**
 * A split write some of whose parts failed: the writes with a key in `failedKeys` failed with
 * `error`; the others were applied.
 */
export class PartialWriteFailure extends Error {
  constructor(
    readonly failedKeys: ReadonlySet<string>,
    readonly error: unknown,
  ) {
    super(error instanceof Error ? error.message : String(error));
    this.name = "PartialWriteFailure";
  }
}
