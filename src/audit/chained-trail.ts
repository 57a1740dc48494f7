/**
 * The audit trail the engine writes to: masks and builds records lazily, chains them per writer,
 * commits them in groups through a backend, and adds signed checkpoints and retention cuts. A
 * backend that builds rows itself (the SQLite writer thread, ADR 0017) gets decisions and outcomes
 * as JSON links instead and answers with the chain's head.
 */

import { SignalboxError } from "../errors/signalbox-error.js";
import { type ChainHead, chainRecordWithBody, EMPTY_HEAD } from "./chain.js";
import { type CheckpointSigner, signCheckpoint } from "./checkpoint-key.js";
import { decisionRow } from "./decision-row.js";
import { type GroupCommitOptions, GroupCommitQueue, type Handoff } from "./group-commit.js";
import { createMasker, DEFAULT_MASK, type Masker } from "./mask.js";
import type { AuditedDecision, AuditTrail, DecisionEntry, OutcomeEntry } from "./port.js";
import {
  AUDIT_SCHEMA,
  type CheckpointBody,
  entryOfRecord,
  outcomeEntryOfRecord,
  outcomeRecord,
  type RetentionCut,
  type UnchainedRecord,
} from "./record.js";
import type { AuditBackend, AuditFilter, AuditPage, AuditStore, ChainLink, StoredAnchor, StoredRow } from "./store.js";
import { recordOfRow, rowOfRecord } from "./stored-row.js";

export interface CheckpointOptions {
  /** Write a checkpoint after this many records. */
  readonly every?: number;
  /** Write a checkpoint this often (milliseconds) when records were written since the last one. */
  readonly intervalMs?: number;
  /** Signs checkpoints; without it checkpoints are written unsigned (they then anchor nothing). */
  readonly signer?: CheckpointSigner;
}

export interface ChainedTrailOptions extends GroupCommitOptions {
  /** This node's chain. */
  readonly writerId: string;
  /** Dotted request paths to mask. Default: token and session ids. */
  readonly mask?: readonly string[];
  /** HMAC key for masking. */
  readonly maskKey: string | Uint8Array;
  readonly checkpoints?: CheckpointOptions;
  /** Wall clock for checkpoint times, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

type Pending =
  | { readonly kind: "decision"; readonly entry: DecisionEntry }
  /** For a backend that builds rows: the entry as JSON, taken at once so the entry is not held. */
  | { readonly kind: "decision-json"; readonly json: string }
  | { readonly kind: "outcome"; readonly entry: OutcomeEntry }
  | { readonly kind: "checkpoint"; readonly reason: "periodic" | "close" }
  | { readonly kind: "retention"; readonly before: number; deleted: number };

export class ChainedAuditTrail implements AuditTrail, AuditStore {
  readonly enabled = true;
  readonly writerId: string;
  private readonly queue: GroupCommitQueue<Pending>;
  private readonly mask: Masker;
  private readonly now: () => number;
  /**
   * The running head of this writer's chain. With a backend that builds rows (`appendLinks`), the
   * head of what has committed (from each batch's answer) plus the checkpoints placed here.
   */
  private head: ChainHead;
  private headStale = false;
  /** The backend builds rows itself: records go to it as links (see `ChainLink`). */
  private readonly builds: boolean;
  /** With `builds`: the backend's builder knows where the chain continues (else the next links start with it). */
  private headSent = false;
  /** Appends handed to a pipelined backend and not yet settled. */
  private readonly appending = new Set<Promise<unknown>>();
  private sinceCheckpoint = 0;
  private closed = false;
  private interval: NodeJS.Timeout | undefined;

  private constructor(
    private readonly backend: AuditBackend,
    private readonly options: ChainedTrailOptions,
    head: ChainHead,
  ) {
    this.writerId = options.writerId;
    this.head = head;
    this.builds = backend.appendLinks !== undefined && backend.buildChain !== undefined;
    // Records an earlier process left may lack a checkpoint (it may have crashed): vouch for them too.
    this.sinceCheckpoint = head.seq > 0 ? 1 : 0;
    this.now = options.now ?? Date.now;
    this.mask = createMasker(options.mask ?? DEFAULT_MASK, options.maskKey);
    // A backend that commits appends in call order lets the next batch be chained and sent while the
    // previous one is still committing (its rows then commit only if the previous ones did).
    this.queue = new GroupCommitQueue((batch) => (this.builds ? this.commitLinks(batch) : this.commit(batch)), {
      ...options,
      pipeline: backend.pipelined ? (options.pipeline ?? 2) : 1,
    });
    const intervalMs = options.checkpoints?.intervalMs;
    if (intervalMs !== undefined && intervalMs > 0) {
      this.interval = setInterval(() => {
        if (this.sinceCheckpoint > 0) this.queue.push({ kind: "checkpoint", reason: "periodic" }).catch(() => {});
      }, intervalMs);
      this.interval.unref();
    }
  }

  /** Opens the trail on `backend`, continuing the writer's chain where it ends. */
  static async open(backend: AuditBackend, options: ChainedTrailOptions): Promise<ChainedAuditTrail> {
    const head = (await backend.head(options.writerId)) ?? EMPTY_HEAD;
    await backend.buildChain?.({
      writerId: options.writerId,
      mask: options.mask ?? DEFAULT_MASK,
      maskKey: options.maskKey,
    });
    return new ChainedAuditTrail(backend, options, head);
  }

  get kind(): string {
    return this.backend.kind;
  }

  /** Records waiting for or in their commit, for metrics. */
  get queueDepth(): number {
    return this.queue.depth;
  }

  async recordDecision(entry: DecisionEntry): Promise<void> {
    if (!this.builds) return this.enqueue({ kind: "decision", entry });
    const { request, decision, wallTime, engineVersion, shadow } = entry;
    await this.enqueue({
      kind: "decision-json",
      json: JSON.stringify({ request, decision, wallTime, engineVersion, shadow }),
    });
  }

  async recordOutcome(entry: OutcomeEntry): Promise<void> {
    await this.enqueue({ kind: "outcome", entry });
  }

  /** Writes a checkpoint now (signed when a key is configured) unless nothing was written since the last. */
  async checkpoint(): Promise<void> {
    await this.enqueue({ kind: "checkpoint", reason: "periodic" });
  }

  async getDecision(id: string): Promise<AuditedDecision | undefined> {
    const records = (await this.backend.rowsForDecision(id)).map(recordOfRow);
    const decisions = records.filter((r) => r.kind === "decision");
    const decision = decisions.find((r) => !r.shadow) ?? decisions[0];
    if (!decision) return undefined;
    const outcomes = records.filter((r) => r.kind === "outcome").map(outcomeEntryOfRecord);
    return { entry: entryOfRecord(decision), outcomes };
  }

  query(filter: AuditFilter, cursor?: string, limit?: number): Promise<AuditPage> {
    return this.backend.query(filter, cursor, limit);
  }

  iterate(writer?: string): AsyncIterable<StoredRow> {
    return this.backend.iterate(writer);
  }

  writers(): Promise<string[]> {
    return this.backend.writers();
  }

  anchors(writer?: string): Promise<StoredAnchor[]> {
    return this.backend.anchors(writer);
  }

  /**
   * Deletes every chain's records written before `time` and, in the same transaction, appends a
   * `retention` checkpoint naming where each chain now starts, so what remains still verifies.
   */
  async deleteBefore(time: number): Promise<number> {
    const item: Pending = { kind: "retention", before: time, deleted: 0 };
    await this.enqueue(item);
    return item.deleted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.interval) clearInterval(this.interval);
    if (this.options.checkpoints && this.sinceCheckpoint > 0) {
      await this.queue.push({ kind: "checkpoint", reason: "close" }).catch(() => {});
    }
    this.closed = true;
    await this.queue.flush();
    await this.backend.close();
  }

  private async enqueue(item: Pending): Promise<void> {
    if (this.closed) throw new SignalboxError("AUDIT_UNAVAILABLE", `audit trail "${this.kind}" is closed`);
    await this.queue.push(item);
  }

  private async commit(batch: readonly Pending[]): Promise<Handoff | undefined> {
    try {
      // Rows build on the previous batch's, which may still be committing (pipelined backends).
      const afterPrevious = !(await this.resumeAfterFailure());
      let rows: StoredRow[] = [];
      for (const item of batch) {
        if (item.kind === "retention") {
          await this.append(rows, afterPrevious);
          rows = [];
          item.deleted = await this.retain(item.before);
          continue;
        }
        if (item.kind === "checkpoint") {
          // Nothing new to vouch for (an every-N checkpoint may just have been written).
          if (this.sinceCheckpoint > 0) rows.push(this.place(await this.checkpointRecord(item.reason)));
          continue;
        }
        if (item.kind === "decision-json") throw new Error("a decision as JSON needs a backend that builds rows");
        rows.push(item.kind === "decision" ? this.placeDecision(item.entry) : this.place(outcomeRecord(item.entry)));
        this.sinceCheckpoint++;
        if (this.checkpointDue()) rows.push(this.place(await this.checkpointRecord("periodic")));
      }
      if (rows.length === 0) return undefined;
      if (!this.backend.pipelined) {
        await this.backend.append(rows);
        return undefined;
      }
      const appended = this.backend.append(rows, { afterPrevious });
      this.appending.add(appended);
      const committed = appended
        .catch((err: unknown) => {
          throw this.failure(err, batch.length);
        })
        .finally(() => this.appending.delete(appended));
      return { committed };
    } catch (err) {
      throw this.failure(err, batch.length);
    }
  }

  /**
   * `commit` for a backend that builds rows: decisions and outcomes go over as links, and the head
   * comes back with each committed batch. A checkpoint vouches for the head, so it waits until
   * everything before it has committed, then is chained here.
   */
  private async commitLinks(batch: readonly Pending[]): Promise<Handoff | undefined> {
    let links: ChainLink[] = [];
    let afterPrevious = true;
    /** Sends the links so far and waits until everything sent has committed: `head` is then current. */
    const settle = async (): Promise<void> => {
      if (links.length > 0) {
        const sent = this.sendLinks(links, afterPrevious);
        links = [];
        afterPrevious = true;
        await sent;
      }
      await Promise.all([...this.appending]);
    };
    const link = (next: ChainLink): void => {
      if (!this.headSent) {
        links.push({ head: this.head });
        this.headSent = true;
      }
      links.push(next);
    };
    const placeCheckpoint = async (reason: CheckpointBody["reason"]): Promise<void> => {
      await settle();
      link({ row: this.place(await this.checkpointRecord(reason)) });
    };
    try {
      if (await this.resumeAfterFailure()) afterPrevious = false;
      for (const item of batch) {
        switch (item.kind) {
          case "retention":
            await settle();
            // The cut's checkpoint is written on this thread: the builder learns the head anew.
            this.headSent = false;
            item.deleted = await this.retain(item.before);
            continue;
          case "checkpoint":
            // Nothing new to vouch for (an every-N checkpoint may just have been written).
            if (this.sinceCheckpoint > 0) await placeCheckpoint(item.reason);
            continue;
          case "decision":
            throw new Error("a decision entry needs a backend that takes rows");
          case "decision-json":
            link({ decision: item.json });
            break;
          case "outcome":
            link({ record: JSON.stringify(outcomeRecord(item.entry)) });
            break;
        }
        this.sinceCheckpoint++;
        if (this.checkpointDue()) await placeCheckpoint("periodic");
      }
      if (links.length === 0) return undefined;
      const committed = this.sendLinks(links, afterPrevious).catch((err: unknown) => {
        throw this.failure(err, batch.length);
      });
      return { committed };
    } catch (err) {
      throw this.failure(err, batch.length);
    }
  }

  /** Hands links to the backend; the head moves to the batch's once it has committed. */
  private sendLinks(links: readonly ChainLink[], afterPrevious: boolean): Promise<void> {
    const appendLinks = this.backend.appendLinks as NonNullable<AuditBackend["appendLinks"]>;
    const appended = appendLinks.call(this.backend, links, { afterPrevious }).then(
      (head) => {
        if (!this.headStale) this.head = head;
      },
      (err: unknown) => {
        // The builder's head is unknown now: the next links (after the head is re-read) restate it.
        this.headStale = true;
        throw err;
      },
    );
    this.appending.add(appended);
    const forget = (): void => {
      this.appending.delete(appended);
    };
    appended.then(forget, forget);
    return appended;
  }

  /**
   * After a failed batch: lets those still in flight settle, then continues from the committed head
   * (which a builder must be told again). Returns whether it did, i.e. the next batch does not build
   * on the one before it.
   */
  private async resumeAfterFailure(): Promise<boolean> {
    if (!this.headStale) return false;
    await Promise.allSettled([...this.appending]);
    this.head = (await this.backend.head(this.writerId)) ?? EMPTY_HEAD;
    this.headStale = false;
    this.headSent = false;
    return true;
  }

  /** Whether an every-N checkpoint is due after the record just placed. */
  private checkpointDue(): boolean {
    const every = this.options.checkpoints?.every;
    return every !== undefined && every > 0 && this.sinceCheckpoint >= every;
  }

  /** Marks the head stale (the batch may or may not have reached the store) and names the failure. */
  private failure(err: unknown, records: number): SignalboxError {
    this.headStale = true;
    if (err instanceof SignalboxError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new SignalboxError(
      "AUDIT_UNAVAILABLE",
      `audit store "${this.kind}" could not commit ${records} records: ${message}`,
      { cause: err },
    );
  }

  private async append(rows: readonly StoredRow[], afterPrevious: boolean): Promise<void> {
    if (rows.length > 0) await this.backend.append(rows, { afterPrevious });
  }

  /** Chains a record after the running head (the head moves even before commit; a failure resets it). */
  private place(record: UnchainedRecord): StoredRow {
    const { record: chained, body } = chainRecordWithBody(record, this.writerId, this.head);
    this.head = { seq: chained.seq, hash: chained.hash };
    if (chained.kind === "checkpoint") this.sinceCheckpoint = 0;
    return rowOfRecord(chained, body);
  }

  /** Chains a decision straight from its entry (the hot path: no intermediate record object). */
  private placeDecision(entry: DecisionEntry): StoredRow {
    const row = decisionRow(entry, this.mask, this.writerId, this.head);
    this.head = { seq: row.seq, hash: row.hash };
    return row;
  }

  private async checkpointRecord(
    reason: CheckpointBody["reason"],
    extra: Pick<CheckpointBody, "before" | "cuts"> = {},
  ): Promise<UnchainedRecord> {
    const time = new Date(this.now()).toISOString();
    const claim = {
      writer_id: this.writerId,
      head_seq: this.head.seq,
      head_hash: this.head.hash,
      count: this.head.seq,
      time,
    };
    const signer = this.options.checkpoints?.signer;
    const jws = signer ? await signCheckpoint(signer, claim) : undefined;
    return {
      schema: AUDIT_SCHEMA,
      kind: "checkpoint",
      decision_id: null,
      event_time: time,
      wall_time: time,
      checkpoint: {
        reason,
        head_seq: claim.head_seq,
        head_hash: claim.head_hash,
        count: claim.count,
        ...(jws ? { jws } : {}),
        ...extra,
      },
    };
  }

  private async retain(before: number): Promise<number> {
    const base = await this.checkpointRecord("retention", { before: new Date(before).toISOString() });
    const headBefore = this.head;
    try {
      return await this.backend.retain(before, (cuts: readonly RetentionCut[]) => {
        if (base.kind !== "checkpoint") return undefined;
        return this.place({ ...base, checkpoint: { ...base.checkpoint, cuts } });
      });
    } catch (err) {
      this.head = headBefore;
      throw err;
    }
  }
}
