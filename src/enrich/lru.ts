/** A bounded least-recently-used cache, so repeated lookups cost a map hit and memory stays capped. */

/**
 * Recency lives in a doubly linked list over fixed slots; the `Map` only maps keys to slots.
 * The simpler "delete and re-insert on every hit" trick is a trap in V8: deleted map entries stay in
 * their hash chain until the table is rebuilt, so one hot key (a NAT gateway's address, a busy
 * service's user agent) grows its chain on every hit and lookups slow to tens of microseconds.
 * Here a hit touches the map once, and keys leave the map only when they are evicted.
 * @example
 * const cache = new Lru<string, number>(2);
 * cache.set("a", 1); cache.set("b", 2); cache.get("a"); cache.set("c", 3); // evicts "b"
 */
export class Lru<K, V> {
  private readonly slots = new Map<K, number>();
  private readonly keys: Array<K | undefined>;
  private readonly values: Array<V | undefined>;
  /** Towards the least recently used end. */
  private readonly older: Int32Array;
  /** Towards the most recently used end. */
  private readonly newer: Int32Array;
  private newest = -1;
  private oldest = -1;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`cache capacity must be a non-negative integer, got "${String(capacity)}"`);
    }
    this.keys = [];
    this.values = [];
    this.older = new Int32Array(capacity);
    this.newer = new Int32Array(capacity);
  }

  get size(): number {
    return this.slots.size;
  }

  get(key: K): V | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    this.touch(slot);
    return this.values[slot];
  }

  set(key: K, value: V): void {
    if (this.capacity === 0) return;
    const existing = this.slots.get(key);
    if (existing !== undefined) {
      this.values[existing] = value;
      this.touch(existing);
      return;
    }
    let slot: number;
    if (this.slots.size < this.capacity) {
      slot = this.slots.size;
    } else {
      slot = this.oldest;
      this.slots.delete(this.keys[slot] as K);
      this.unlink(slot);
    }
    this.keys[slot] = key;
    this.values[slot] = value;
    this.slots.set(key, slot);
    this.pushNewest(slot);
  }

  clear(): void {
    this.slots.clear();
    this.keys.length = 0;
    this.values.length = 0;
    this.newest = -1;
    this.oldest = -1;
  }

  private touch(slot: number): void {
    if (slot === this.newest) return;
    this.unlink(slot);
    this.pushNewest(slot);
  }

  private unlink(slot: number): void {
    const older = this.older[slot] ?? -1;
    const newer = this.newer[slot] ?? -1;
    if (older >= 0) this.newer[older] = newer;
    else this.oldest = newer;
    if (newer >= 0) this.older[newer] = older;
    else this.newest = older;
  }

  private pushNewest(slot: number): void {
    this.older[slot] = this.newest;
    this.newer[slot] = -1;
    if (this.newest >= 0) this.newer[this.newest] = slot;
    else this.oldest = slot;
    this.newest = slot;
  }
}
