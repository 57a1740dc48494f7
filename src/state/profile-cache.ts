/** A bounded LRU of parsed profiles, so the SQLite adapter does not parse the same JSON document on every read and write. */

import type { Profile } from "./port.js";

/**
 * Cached profiles are never mutated: readers get them as read-only snapshots, and a write replaces
 * an entry with a new object (see `ProfileDraft`), so a snapshot handed out earlier stays as it was.
 */
export class ProfileCache {
  private readonly entries = new Map<string, Profile>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): Profile | undefined {
    const p = this.entries.get(key);
    if (p !== undefined) {
      // Map keeps insertion order: re-inserting makes this entry the most recently used.
      this.entries.delete(key);
      this.entries.set(key, p);
    }
    return p;
  }

  set(key: string, profile: Profile): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, profile);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
