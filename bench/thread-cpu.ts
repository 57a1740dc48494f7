/**
 * CPU time of each thread of a process, from `/proc/<pid>/task/<tid>/stat` (Linux only): user +
 * system, in microseconds, at the kernel's 100 Hz tick. Threads are listed in the order they started
 * (the main thread first), which is how the benchmarks tell them apart: Node names every thread
 * `node`.
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";

/** Each live thread's CPU so far, in µs, by thread id; undefined where /proc is missing. */
export function threadCpu(pid: number | "self" = "self"): Map<string, number> | undefined {
  const dir = `/proc/${pid}/task`;
  if (!existsSync(dir)) return undefined;
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(dir);
  } catch {
    return undefined; // the process ended meanwhile
  }
  for (const tid of tids.sort((a, b) => Number(a) - Number(b))) {
    let stat: string;
    try {
      stat = readFileSync(`${dir}/${tid}/stat`, "utf8");
    } catch {
      continue; // the thread ended meanwhile
    }
    // The fields after the command name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(tid, (Number(fields[11]) + Number(fields[12])) * 10_000);
  }
  return out;
}

/** Each thread's CPU between two readings divided by `per` (e.g. requests), threads that spent none left out. */
export function spentPer(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  per: number,
): { tid: string; us: number }[] {
  const out: { tid: string; us: number }[] = [];
  for (const [tid, us] of after) {
    const spent = us - (before.get(tid) ?? 0);
    if (spent > 0) out.push({ tid, us: spent / per });
  }
  return out;
}
