/**
 * When the memory-resident SQLite state's entries expire, indexed by time slot, so a periodic prune
 * finds what is due without scanning every profile, counter, claim and pending decision.
 */

import type { DroppedKind } from "./state-journal.js";

/**
 * Each entry is noted with the latest time it is known to stay live until (`due`) and filed in the
 * slot of that time. `take(now)` empties the slots wholly before `now`'s slot and yields the
 * entries whose latest `due` is still in one of them; an entry noted again later sits in a later
 * slot and is skipped until then. The caller confirms each candidate against the store itself.
 */
export class ExpiryIndex {
  private readonly due = new Map<DroppedKind, Map<string, number>>();
  private readonly slots = new Map<number, Map<DroppedKind, Set<string>>>();
  /** No slot below this one holds anything. */
  private lowest = Number.POSITIVE_INFINITY;

  constructor(private readonly slotMs: number) {
    for (const kind of ["profile", "counter", "claim", "pending"] as const) this.due.set(kind, new Map());
  }

  /** `key` stays live at least until `at` (epoch ms). */
  note(kind: DroppedKind, key: string, at: number): void {
    const due = this.due.get(kind) as Map<string, number>;
    const known = due.get(key);
    if (known !== undefined && known >= at) return;
    due.set(key, at);
    const slot = Math.floor(at / this.slotMs);
    if (slot < this.lowest) this.lowest = slot;
    let bySlot = this.slots.get(slot);
    if (!bySlot) {
      bySlot = new Map();
      this.slots.set(slot, bySlot);
    }
    let keys = bySlot.get(kind);
    if (!keys) {
      keys = new Set();
      bySlot.set(kind, keys);
    }
    keys.add(key);
  }

  /** The latest time `key` is known to stay live until, if noted. */
  dueOf(kind: DroppedKind, key: string): number | undefined {
    return this.due.get(kind)?.get(key);
  }

  /** Forgets an entry dropped for another reason (its bound). */
  forget(kind: DroppedKind, key: string): void {
    this.due.get(kind)?.delete(key);
  }

  /** The entries due before the slot of `now`, removed from the index. */
  take(now: number): [DroppedKind, string][] {
    const current = Math.floor(now / this.slotMs);
    const out: [DroppedKind, string][] = [];
    if (this.lowest >= current) return out;
    // Walk the slots in range when that is shorter than the index (the usual case: a slot or two).
    if (current - this.lowest <= this.slots.size) {
      for (let slot = this.lowest; slot < current; slot++) this.takeSlot(slot, out);
    } else {
      for (const slot of [...this.slots.keys()]) if (slot < current) this.takeSlot(slot, out);
    }
    this.lowest = current;
    return out;
  }

  private takeSlot(slot: number, out: [DroppedKind, string][]): void {
    const bySlot = this.slots.get(slot);
    if (!bySlot) return;
    this.slots.delete(slot);
    const end = (slot + 1) * this.slotMs;
    for (const [kind, keys] of bySlot) {
      const due = this.due.get(kind) as Map<string, number>;
      for (const key of keys) {
        const at = due.get(key);
        if (at !== undefined && at < end) {
          due.delete(key);
          out.push([kind, key]);
        }
      }
    }
  }

  /** Entries known, for diagnostics. */
  get size(): number {
    let n = 0;
    for (const due of this.due.values()) n += due.size;
    return n;
  }
}
