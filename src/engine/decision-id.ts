/** Decision ids: UUIDv7, so ids sort by creation time and index well in the audit trail. */

import { randomFillSync } from "node:crypto";

const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Reserves 10 random bytes in the pool and returns where they start (no view is allocated). */
function random10(): number {
  if (offset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += 10;
  return at;
}

function r(i: number): number {
  return pool[i] as number;
}

function h(n: number): string {
  return HEX[n & 0xff] as string;
}

/** A UUIDv7 for wall-clock time `ms` (RFC 9562 §5.7). */
export function uuidv7(ms: number = Date.now()): string {
  const o = random10();
  const t = Math.max(0, Math.floor(ms));
  const hi = Math.floor(t / 2 ** 16);
  const lo = t % 2 ** 16;
  return (
    h(hi >>> 24) +
    h(hi >>> 16) +
    h(hi >>> 8) +
    h(hi) +
    "-" +
    h(lo >>> 8) +
    h(lo) +
    "-" +
    h(0x70 | (r(o) & 0x0f)) +
    h(r(o + 1)) +
    "-" +
    h(0x80 | (r(o + 2) & 0x3f)) +
    h(r(o + 3)) +
    "-" +
    h(r(o + 4)) +
    h(r(o + 5)) +
    h(r(o + 6)) +
    h(r(o + 7)) +
    h(r(o + 8)) +
    h(r(o + 9))
  );
}
