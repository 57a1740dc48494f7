/** Compares dotted operating-system versions (`15.1`, `10.0.19045`) numerically, part by part. */

/** The numeric parts of a version; undefined when it does not start with a number. */
export function versionParts(version: string): number[] | undefined {
  const m = /^\s*v?(\d+(?:\.\d+)*)/i.exec(version);
  if (!m?.[1]) return undefined;
  return m[1].split(".").map(Number);
}

/** Negative when `a` is older than `b`, zero when equal, positive when newer; missing parts count as 0. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  const len = Math.max(a.length, b.length);
  for (let i = 0; i < len; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
