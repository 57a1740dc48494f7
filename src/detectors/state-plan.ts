/** Merges what every detector needs into one state query, and reads the snapshot back as a view. */

import type {
  ClaimRead,
  ClaimSpec,
  CounterRead,
  CounterSpec,
  Profile,
  StateQuery,
  StateSnapshot,
} from "../state/port.js";
import { emptyProfile } from "../state/port.js";
import type { StateNeeds, StateView } from "./detector.js";

/**
 * Collects detectors' needs, de-duplicated; when a counter is asked twice the largest window wins,
 * and its distinct members are counted if either asked for them.
 * A decision needs a handful of keys, so plain arrays searched in order beat sets and maps here.
 */
export class StatePlan implements StateNeeds {
  private readonly profiles: string[] = [];
  private readonly counters: CounterSpec[] = [];
  private readonly claims: ClaimSpec[] = [];

  profile(key: string): void {
    if (!this.profiles.includes(key)) this.profiles.push(key);
  }

  counter(spec: CounterSpec): void {
    const i = indexOfKey(this.counters, spec.key);
    if (i < 0) {
      this.counters.push(spec);
      return;
    }
    this.counters[i] = mergeCounter(this.counters[i] as CounterSpec, spec);
  }

  claim(spec: ClaimSpec): void {
    if (indexOfKey(this.claims, spec.key) < 0) this.claims.push(spec);
  }

  get isEmpty(): boolean {
    return this.profiles.length === 0 && this.counters.length === 0 && this.claims.length === 0;
  }

  /** The merged query; it shares the plan's lists, so the plan is not used after this. */
  query(): StateQuery {
    return { profiles: this.profiles, counters: this.counters, claims: this.claims };
  }
}

/**
 * One counter asked twice (by two detectors, or by the active and the shadow policy): the larger
 * window, and distinct members if either asked. Returns `known` itself when it covers both.
 */
export function mergeCounter(known: CounterSpec, spec: CounterSpec): CounterSpec {
  const windowMs = Math.max(known.windowMs, spec.windowMs);
  const distinct = known.distinct === true || spec.distinct === true;
  if (windowMs === known.windowMs && distinct === (known.distinct === true)) return known;
  return { key: known.key, windowMs, ...(distinct ? { distinct } : {}) };
}

function indexOfKey(list: readonly { readonly key: string }[], key: string): number {
  for (let i = 0; i < list.length; i++) if ((list[i] as { readonly key: string }).key === key) return i;
  return -1;
}

const EMPTY_COUNTER: CounterRead = Object.freeze({ count: 0, distinct: 0 });

/** A read-only view of a snapshot in which missing entries read as empty. */
export function viewOf(snapshot: StateSnapshot): StateView {
  return {
    profile(key: string): Profile {
      return snapshot.profiles.get(key) ?? emptyProfile();
    },
    counter(key: string): CounterRead {
      return snapshot.counters.get(key) ?? EMPTY_COUNTER;
    },
    claim(key: string): ClaimRead | undefined {
      return snapshot.claims.get(key);
    },
  };
}

export const EMPTY_SNAPSHOT: StateSnapshot = Object.freeze({
  profiles: new Map(),
  counters: new Map(),
  claims: new Map(),
});
