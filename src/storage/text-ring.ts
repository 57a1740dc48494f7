/**
 * Space in the byte buffer the main thread shares with a writer thread: each batch in flight holds
 * one region, regions are taken one after another around the ring and given back oldest first
 * (the worker acknowledges batches in order).
 */

export interface TextRegion {
  readonly start: number;
  readonly end: number;
}

export class TextRing {
  /** Regions in flight, oldest first. */
  private readonly held: TextRegion[] = [];

  constructor(readonly size: number) {}

  /** Where `bytes` free bytes start, or `undefined` when they do not fit now. Take them with `hold`. */
  reserve(bytes: number): number | undefined {
    const oldest = this.held[0];
    const newest = this.held.at(-1);
    if (!oldest || !newest) return bytes <= this.size ? 0 : undefined;
    if (newest.end > oldest.start) {
      // Free space runs from the newest region to the end, then from 0 up to the oldest region.
      if (this.size - newest.end >= bytes) return newest.end;
      // Strictly below: a region ending where the oldest starts would look like an empty ring.
      return bytes < oldest.start ? 0 : undefined;
    }
    return oldest.start - newest.end > bytes ? newest.end : undefined;
  }

  /** Marks `[start, end)` as in flight (after `reserve` and writing fewer bytes than reserved). */
  hold(start: number, end: number): TextRegion {
    const region = { start, end };
    this.held.push(region);
    return region;
  }

  /** Gives back the oldest region. */
  release(): void {
    this.held.shift();
  }

  /** Gives back every region (the worker is gone). */
  clear(): void {
    this.held.length = 0;
  }

  /** Regions in flight. */
  get count(): number {
    return this.held.length;
  }
}
