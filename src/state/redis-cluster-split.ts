/**
 * Splits a call of the read or write script by Redis Cluster hash slot, or by the node serving it
 * (ADR 0020): a script may only touch keys of one slot (of one node, with Redis 7's
 * `allow-cross-slot-keys`), while a coalesced call spans many identities. Every state key carries
 * its identity as a hash tag, so each counter, claim, profile check and write op belongs to exactly
 * one slot; the call becomes one call per group, sent together, and their replies are put back in
 * the order one call would have given them, so the callers cannot tell the difference.
 */

import { keySlot } from "./redis-cluster-slot.js";
import { PartFailed } from "./redis-part-failure.js";
import type { ScriptRead } from "./redis-read-batch.js";
import { OP_LENGTH, PROFILE_OPS } from "./redis-scripts.js";

/** Part calls of a split, and how to merge their replies (given in the same order) into one. */
export interface Split<Call> {
  readonly calls: readonly Call[];
  merge(replies: readonly unknown[]): unknown[];
}

/** Which call a key goes in: its slot by default (`keySlot`), or the node serving its slot. */
export type GroupOf = (key: string) => number | string;

/** A read script call per group; the merged reply is per counter, then per claim, then per profile, as for one call. */
export function splitRead(read: ScriptRead, groupOf: GroupOf = keySlot): Split<ScriptRead> {
  // A part's items, and where each one's reply entry goes in the merged reply (`*At`).
  type Part = {
    counters: ScriptRead["counters"][number][];
    claims: ScriptRead["claims"][number][];
    profiles: ScriptRead["profiles"][number][];
    countersAt: number[];
    claimsAt: number[];
    profilesAt: number[];
  };
  const parts = new Map<number | string, Part>();
  const partOf = (key: string): Part => {
    const group = groupOf(key);
    let part = parts.get(group);
    if (part === undefined) {
      part = { counters: [], claims: [], profiles: [], countersAt: [], claimsAt: [], profilesAt: [] };
      parts.set(group, part);
    }
    return part;
  };
  let index = 0;
  for (const c of read.counters) {
    const part = partOf(c.key);
    part.counters.push(c);
    part.countersAt.push(index++);
  }
  for (const c of read.claims) {
    const part = partOf(c.key);
    part.claims.push(c);
    part.claimsAt.push(index++);
  }
  for (const p of read.profiles) {
    const part = partOf(p.key);
    part.profiles.push(p);
    part.profilesAt.push(index++);
  }
  const all = [...parts.values()];
  // In a part's reply order: its counters, then its claims, then its profiles.
  const placesOf = (part: Part) => [...part.countersAt, ...part.claimsAt, ...part.profilesAt];
  return {
    calls: all.map(({ counters, claims, profiles }) => ({ counters, claims, profiles })),
    merge(replies) {
      const out = new Array<unknown>(index);
      all.forEach((part, i) => {
        const reply = replies[i];
        placesOf(part).forEach((at, j) => {
          out[at] = reply instanceof PartFailed ? reply : (reply as unknown[])[j];
        });
      });
      return out;
    },
  };
}

/** One call of the write script: its keys, and ops whose key indexes (1-based) point into them. */
export interface WriteCall {
  readonly keys: string[];
  readonly ops: (string | number)[];
}

/**
 * A write script call per group, each with its own keys and the ops on them in their original order.
 * The merged reply lists `{before, after, evicted}` per profile in the order the whole call first
 * touched them, as one call would.
 */
export function splitWrite(
  keys: readonly string[],
  ops: readonly (string | number)[],
  groupOf: GroupOf = keySlot,
): Split<WriteCall> {
  type Part = WriteCall & { readonly indexOf: Map<string, number> };
  const parts = new Map<number | string, Part>();
  /** Per profile first touched, in order: the part holding it. */
  const touched: Part[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < ops.length; ) {
    const op = String(ops[i]);
    const length = OP_LENGTH[op];
    if (length === undefined) throw new Error(`state write: unknown op '${op}' at argument ${i}`);
    const key = keys[(ops[i + 1] as number) - 1];
    if (key === undefined) throw new Error(`state write: op '${op}' at argument ${i} names no key`);
    const group = groupOf(key);
    let part = parts.get(group);
    if (part === undefined) {
      part = { keys: [], ops: [], indexOf: new Map() };
      parts.set(group, part);
    }
    let k = part.indexOf.get(key);
    if (k === undefined) {
      k = part.keys.push(key);
      part.indexOf.set(key, k);
    }
    part.ops.push(op, k);
    for (let j = 2; j < length; j++) part.ops.push(ops[i + j] as string | number);
    if (PROFILE_OPS.has(op) && !seen.has(key)) {
      seen.add(key);
      touched.push(part);
    }
    i += length;
  }
  const all = [...parts.values()];
  return {
    calls: all.map(({ keys: k, ops: o }) => ({ keys: k, ops: o })),
    merge(replies) {
      const replyOf = new Map(all.map((part, i) => [part, replies[i] as unknown[]]));
      const cursor = new Map<Part, number>();
      const out: unknown[] = [];
      for (const part of touched) {
        const reply = replyOf.get(part) as unknown[];
        const at = cursor.get(part) ?? 0;
        out.push(reply[at], reply[at + 1], reply[at + 2]);
        cursor.set(part, at + 3);
      }
      return out;
    },
  };
}

/**
 * What a part's error says when its node no longer serves one of its keys' slots: a script's key
 * check ("non local key"), a redirection the client could not follow through, or a multi-key call
 * refused while its slot migrates. None of these lets anything of the part run (the cross-slot
 * scripts check every key before they change one).
 */
const SLOT_MOVED = /non local key|\bMOVED \d+ |\bASK \d+ |\bTRYAGAIN\b|Too many Cluster redirections/;

/** Whether `err`, or an error it was caused by, says that a key's slot is served by another primary now. */
export function slotMoved(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++, e = e.cause) {
    if (SLOT_MOVED.test(e.message)) return true;
  }
  return false;
}
