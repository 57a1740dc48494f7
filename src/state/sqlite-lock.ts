/**
 * The single-owner lock of a SQLite state file: `<file>.lock`, created exclusively and holding the
 * owner's pid. The SQLite adapter keeps the whole state in its process's memory, so a second process
 * writing the same file would silently diverge from it; it is refused instead.
 */

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
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
    let fd: number;
    try {
      fd = openSync(lock, "wx");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new SignalboxError("CONFIG_INVALID", `cannot create the lock file '${lock}' of the state database`, {
          cause: err,
        });
      }
      const owner = readOwner(lock);
      if (owner !== undefined && isRunning(owner) && (owner !== process.pid || held.has(lock))) {
        const who = owner === process.pid ? `this process (pid ${owner})` : `another process (pid ${owner})`;
        throw new SignalboxError(
          "STATE_UNAVAILABLE",
          `state database '${file}' is in use by ${who}; share state between processes with redis://… (--state), or stop the other process`,
        );
      }
      removeQuietly(lock); // stale: its owner is gone
      continue;
    }
    try {
      writeSync(fd, String(process.pid));
    } finally {
      closeSync(fd);
    }
    held.add(lock);
    return () => {
      if (!held.delete(lock)) return;
      if (readOwner(lock) === process.pid) removeQuietly(lock);
    };
  }
  throw new SignalboxError("STATE_UNAVAILABLE", `cannot take the lock file '${lock}' of the state database`);
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
