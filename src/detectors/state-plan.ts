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

/** Collects detectors' needs, de-duplicated; the largest window wins when a counter is asked twice. */
export class StatePlan implements StateNeeds {
  private readonly profiles = new Set<string>();
  private readonly counters = new Map<string, CounterSpec>();
  private readonly claims = new Map<string, ClaimSpec>();

  profile(key: string): void {
    this.profiles.add(key);
  }

  counter(spec: CounterSpec): void {
    const prev = this.counters.get(spec.key);
    if (!prev || prev.windowMs < spec.windowMs) this.counters.set(spec.key, spec);
  }

  claim(spec: ClaimSpec): void {
    if (!this.claims.has(spec.key)) this.claims.set(spec.key, spec);
  }

  get isEmpty(): boolean {
    return this.profiles.size === 0 && this.counters.size === 0 && this.claims.size === 0;
  }

  query(): StateQuery {
    return { profiles: [...this.profiles], counters: [...this.counters.values()], claims: [...this.claims.values()] };
  }
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
