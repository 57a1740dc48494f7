/** Decision ids: UUIDv7, so ids sort by creation time and index well in the audit trail. */

import { randomFillSync } from "node:crypto";

const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function random10(): Uint8Array {
  if (offset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + 10);
  offset += 10;
  return out;
}

/** A UUIDv7 for wall-clock time `ms` (RFC 9562 §5.7). */
export function uuidv7(ms: number = Date.now()): string {
  const r = random10();
  const t = Math.max(0, Math.floor(ms));
  const hi = Math.floor(t / 2 ** 16);
  const lo = t % 2 ** 16;
  const h = (n: number) => HEX[n & 0xff] as string;
  return (
    h(hi >>> 24) +
    h(hi >>> 16) +
    h(hi >>> 8) +
    h(hi) +
    "-" +
    h(lo >>> 8) +
    h(lo) +
    "-" +
    h(0x70 | ((r[0] as number) & 0x0f)) +
    h(r[1] as number) +
    "-" +
    h(0x80 | ((r[2] as number) & 0x3f)) +
    h(r[3] as number) +
    "-" +
    h(r[4] as number) +
    h(r[5] as number) +
    h(r[6] as number) +
    h(r[7] as number) +
    h(r[8] as number) +
    h(r[9] as number)
  );
}
