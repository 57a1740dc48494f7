/**
 * The single-owner lock of a SQLite state file: `<file>.lock`, created atomically (hard link) and
 * holding the owner's pid. The SQLite adapter keeps the whole state in its process's memory, so a second process
 * writing the same file would silently diverge from it; it is refused instead.
 */

import { randomUUID } from "node:crypto";
import { linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { SignalboxError } from "../errors/signalbox-error.js";

/** Lock files this process holds; the same pid in a lock file not listed here is a dead earlier process (e.g. pid 1 in a restarted container). */
const held = new Set<string>();

/**
 * Takes the lock of `file` or throws `STATE_UNAVAILABLE` naming the process that holds it. A lock
 * left by a process that no longer runs is taken over. Returns the function that releases it.
 */
export function lockStateFile(file: string): () => void {
  const lock = `${file}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (!createWithPid(lock)) {
      const owner = readOwner(lock);
      if (owner !== undefined && isRunning(owner) && (owner !== process.pid || held.has(lock))) {
        const who = owner === process.pid ? `this process (pid ${owner})` : `another process (pid ${owner})`;
        throw new SignalboxError(
          "STATE_UNAVAILABLE",
          `state database '${file}' is in use by ${who}; share state between processes with redis://… (--state), or stop the other process`,
        );
      }
      // Stale: its owner is gone. Removed only if it still names that owner, so a lock another
      // starting process has just taken over is not removed in turn.
      if (readOwner(lock) === owner) removeQuietly(lock);
      continue;
    }
    held.add(lock);
    return () => {
      if (!held.delete(lock)) return;
      if (readOwner(lock) === process.pid) removeQuietly(lock);
    };
  }
  throw new SignalboxError("STATE_UNAVAILABLE", `cannot take the lock file '${lock}' of the state database`);
}

/**
 * Creates the lock file already holding this pid, atomically: the pid goes into a private file that
 * is then hard-linked to the lock's name, which fails if the lock exists. A lock is never seen empty
 * (an empty one would read as stale to a process starting at the same moment).
 */
function createWithPid(lock: string): boolean {
  const temp = `${lock}.${process.pid}.${randomUUID()}`;
  try {
    writeFileSync(temp, String(process.pid), { flag: "wx" });
    linkSync(temp, lock);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new SignalboxError("CONFIG_INVALID", `cannot create the lock file '${lock}' of the state database`, {
      cause: err,
    });
  } finally {
    removeQuietly(temp);
  }
}

function readOwner(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(lock, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
