/**
 * A node-local copy of the population profiles (`global:*`, statistics over every identity such as
 * `global:login`) for the Redis state adapter. They are the largest profiles (thousands of values)
 * and read by almost every decision, yet one decision changes them by a hair: fetching and parsing
 * them on every read was most of a decision's Redis and node time. A copy is fetched again at most
 * every `refreshMs` (wall time, not event time), the fetch riding in the pipeline of the read that
 * found it stale; concurrent reads share that fetch. Copies are frozen and replaced, never changed,
 * so every snapshot holding one stays read-only. Writes are not cached: they go to Redis at once.
 */

import type { JsonValue } from "../model/request.js";
import type { Profile } from "./port.js";
import { SUMMARY_MIN_SIZE, summarise } from "./profile-summary.js";

/** State keys served from the copy: population profiles. Identity profiles, counters and claims never are. */
export const POPULATION_PREFIX = "global:";

interface Entry {
  /** The last copy fetched, frozen. */
  readonly profile?: Profile;
  /** When the fetch of `profile` was sent (monotonic ms). */
  readonly fetchedAt: number;
  /** A fetch in flight; readers wait for it rather than send another. */
  readonly refresh?: Promise<Profile>;
}

export class PopulationCache {
  private readonly entries = new Map<string, Entry>();

  /**
   * @param refreshMs the oldest a copy may be; 0 turns the cache off (every read goes to Redis).
   * @param clock monotonic milliseconds.
   */
  constructor(
    readonly refreshMs: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Whether reads of this profile key go through the copy. */
  covers(key: string): boolean {
    return this.refreshMs > 0 && key.startsWith(POPULATION_PREFIX);
  }

  /** A fresh copy, or the fetch already in flight, or undefined when the caller must fetch (see `track`). */
  lookup(key: string): Profile | Promise<Profile> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.refresh) return entry.refresh;
    if (entry.profile && this.clock() - entry.fetchedAt < this.refreshMs) return entry.profile;
    return undefined;
  }

  /** Records a fetch just sent; its profile, frozen, becomes the copy. A failed fetch leaves no copy. */
  track(key: string, fetch: Promise<Profile>): Promise<Profile> {
    const fetchedAt = this.clock();
    const refresh = fetch.then(
      (profile) => {
        const frozen = deepFreeze(profile);
        this.entries.set(key, { profile: frozen, fetchedAt });
        return frozen;
      },
      (err: unknown) => {
        this.entries.delete(key);
        throw err;
      },
    );
    const previous = this.entries.get(key);
    this.entries.set(key, { ...previous, fetchedAt: previous?.fetchedAt ?? 0, refresh });
    return refresh;
  }

  /** Drops every copy (the next read of each fetches it). */
  clear(): void {
    this.entries.clear();
  }
}

/** Freezes a fetched copy; its large sets get their summaries once here, so readers never scan them. */
function deepFreeze(profile: Profile): Profile {
  for (const field in profile.sets) {
    const set = profile.sets[field] ?? {};
    for (const value in set) Object.freeze(set[value]);
    Object.freeze(set);
    if (Object.keys(set).length >= SUMMARY_MIN_SIZE) summarise(set);
  }
  Object.freeze(profile.sets);
  for (const field in profile.values) freezeJson(profile.values[field] as JsonValue);
  Object.freeze(profile.values);
  return Object.freeze(profile);
}

function freezeJson(v: JsonValue): void {
  if (v === null || typeof v !== "object") return;
  for (const inner of Array.isArray(v) ? v : Object.values(v)) freezeJson(inner);
  Object.freeze(v);
}
