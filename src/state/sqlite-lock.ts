/**
 * The single-owner lock of a SQLite state file: `<file>.lock`, created atomically (hard link). The
 * SQLite adapter keeps the whole state in its process's memory, so a second process writing the
 * same file would silently diverge from it; it is refused instead.
 *
 * The lock names its owner: pid, host name and pid namespace (on Linux, the boot id and the
 * namespace's inode, which differ between containers and across reboots). A process in the same
 * namespace can tell whether the owner still runs, so a dead owner's lock is taken over at once.
 * A process elsewhere (another container on a shared volume, another host on a network share)
 * cannot see that pid: for it the lock is a lease, which the owner renews every few seconds (the
 * file's modification time), and which is taken over only once it has not been renewed for
 * `leaseMs`. The lease is the owner's: it is written into the lock, so a process started with a
 * shorter one does not take over a live lock renewed at a slower pace. A lock holding only a pid (an
 * earlier release) counts as from this namespace; one without a lease, as holding the default.
 */

import { randomUUID } from "node:crypto";
import { linkSync, readFileSync, readlinkSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { SignalboxError } from "../errors/signalbox-error.js";

/** Lock files this process holds; the same pid in a lock file not listed here is a dead earlier process (e.g. pid 1 in a restarted container). */
const held = new Set<string>();

export interface LockOptions {
  /**
   * How long this process's lock stays in force, for a process in another namespace, without being
   * renewed; it is renewed every sixth of that. Default 30 s.
   */
  readonly leaseMs?: number;
}

export const DEFAULT_LEASE_MS = 30_000;
/** Bounds of a lease set by configuration (`?lease_ms=` on a SQLite state URL). */
const MIN_LEASE_MS = 1_000;
const MAX_LEASE_MS = 600_000;
/** What a configured lease must be, for error messages. */
export const LEASE_RULE = `must be from ${MIN_LEASE_MS} to ${MAX_LEASE_MS} milliseconds`;

/** A configured lease (`?lease_ms=`) in ms, or undefined when `text` is not a whole number within the bounds. */
export function configuredLease(text: string): number | undefined {
  if (!/^\d{1,9}$/.test(text)) return undefined;
  const ms = Number(text);
  return ms >= MIN_LEASE_MS && ms <= MAX_LEASE_MS ? ms : undefined;
}

interface Owner {
  readonly pid: number;
  readonly host?: string;
  readonly namespace?: string;
  /** The owner's lease, ms (absent in locks of earlier releases: the default). */
  readonly leaseMs?: number;
}

/** This process's pid namespace: boot id and namespace inode on Linux, empty elsewhere. */
function currentNamespace(): string {
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return `${boot}/${readlinkSync("/proc/self/ns/pid")}`;
  } catch {
    return "";
  }
}

const ME: Required<Omit<Owner, "leaseMs">> = { pid: process.pid, host: hostname(), namespace: currentNamespace() };

/** A held lock: call it to release; `owned()` tells whether the lock file still names this process. */
export type StateLock = (() => void) & { readonly owned: () => boolean };

/**
 * Takes the lock of `file` or throws `STATE_UNAVAILABLE` naming the process that holds it, and
 * keeps renewing it. Returns the function that releases it.
 */
export function lockStateFile(file: string, options: LockOptions = {}): StateLock {
  const lock = `${file}.lock`;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (!createWithOwner(lock, leaseMs)) {
      const owner = readOwner(lock);
      if (owner !== undefined && stillHeld(lock, owner)) throw inUse(file, owner);
      // Stale: its owner is gone. Removed only if it still names that owner, so a lock another
      // starting process has just taken over is not removed in turn.
      if (sameOwner(readOwner(lock), owner)) removeQuietly(lock);
      continue;
    }
    held.add(lock);
    // Renewal: the lease's clock is the file's modification time. A lock no longer naming this
    // process (taken over while it was stopped for longer than the lease) is left alone.
    const renew = setInterval(
      () => {
        if (sameOwner(readOwner(lock), ME)) touchQuietly(lock);
        else clearInterval(renew);
      },
      Math.max(100, Math.floor(leaseMs / 6)),
    );
    renew.unref();
    const owned = (): boolean => held.has(lock) && sameOwner(readOwner(lock), ME);
    const release = (): void => {
      clearInterval(renew);
      if (!held.delete(lock)) return;
      if (sameOwner(readOwner(lock), ME)) removeQuietly(lock);
    };
    return Object.assign(release, { owned });
  }
  throw new SignalboxError("STATE_UNAVAILABLE", `cannot take the lock file '${lock}' of the state database`);
}

/** Whether `owner`'s lock is still in force: judged by its own lease, not the one this process renews at. */
function stillHeld(lock: string, owner: Owner): boolean {
  if (sameNamespace(owner)) {
    return isRunning(owner.pid) && (owner.pid !== process.pid || held.has(lock));
  }
  const renewed = modifiedAt(lock);
  return renewed !== undefined && Date.now() - renewed < (owner.leaseMs ?? DEFAULT_LEASE_MS);
}

function inUse(file: string, owner: Owner): SignalboxError {
  const leaseMs = owner.leaseMs ?? DEFAULT_LEASE_MS;
  const who = !sameNamespace(owner)
    ? `a process elsewhere (pid ${owner.pid} on '${owner.host}', another container or host; its lock is taken over once not renewed for ${Math.round(leaseMs / 1000)} s)`
    : owner.pid === process.pid
      ? `this process (pid ${owner.pid})`
      : `another process (pid ${owner.pid})`;
  return new SignalboxError(
    "STATE_UNAVAILABLE",
    `state database '${file}' is in use by ${who}; share state between processes with redis://… (--state), or stop the other process`,
  );
}

/**
 * Creates the lock file already naming this process, atomically: the owner goes into a private
 * file that is then hard-linked to the lock's name, which fails if the lock exists. A lock is never
 * seen empty (an empty one would read as stale to a process starting at the same moment).
 */
function createWithOwner(lock: string, leaseMs: number): boolean {
  const temp = `${lock}.${process.pid}.${randomUUID()}`;
  try {
    writeFileSync(temp, JSON.stringify({ ...ME, leaseMs }), { flag: "wx" });
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

/** The owner a lock file names: `{ pid, host, namespace }`, or a bare pid from an earlier release. */
export function readOwner(lock: string): Owner | undefined {
  let text: string;
  try {
    text = readFileSync(lock, "utf8").trim();
  } catch {
    return undefined;
  }
  if (/^\d+$/.test(text)) return positivePid(Number(text));
  try {
    const o = JSON.parse(text) as Partial<Record<keyof Owner, unknown>>;
    const pid = positivePid(Number(o.pid));
    if (!pid || typeof o.host !== "string" || typeof o.namespace !== "string") return undefined;
    const lease = typeof o.leaseMs === "number" && Number.isInteger(o.leaseMs) && o.leaseMs > 0 ? o.leaseMs : undefined;
    return { pid: pid.pid, host: o.host, namespace: o.namespace, ...(lease !== undefined ? { leaseMs: lease } : {}) };
  } catch {
    return undefined;
  }
}

/** Whether this process can see `owner`'s pid: the same host and pid namespace, or a lock of an earlier release. */
function sameNamespace(owner: Owner): boolean {
  return owner.namespace === undefined || (owner.host === ME.host && owner.namespace === ME.namespace);
}

function positivePid(pid: number): Owner | undefined {
  return Number.isInteger(pid) && pid > 0 ? { pid } : undefined;
}

function sameOwner(a: Owner | undefined, b: Owner | undefined): boolean {
  return a !== undefined && b !== undefined && a.pid === b.pid && a.host === b.host && a.namespace === b.namespace;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function modifiedAt(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function touchQuietly(path: string): void {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // gone: released, or removed by hand
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
