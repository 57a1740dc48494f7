/** One process owns a SQLite state file: a second one is refused with a clear error; a lock left by a dead process is taken over. */

import { type ChildProcess, fork } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { openStateStore } from "../../src/state/open-state.js";
import { SqliteStateStore } from "../../src/state/sqlite.js";
import { lockStateFile, readOwner } from "../../src/state/sqlite-lock.js";

const dir = mkdtempSync(join(tmpdir(), "signalbox-state-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  opened: boolean;
  code?: string;
  message?: string;
}

function openInChild(file: string): { child: ChildProcess; outcome: Promise<Outcome> } {
  const child = fork(new URL("./sqlite-owner-process.ts", import.meta.url), [file], { execArgv: ["--import", "tsx"] });
  const outcome = new Promise<Outcome>((resolve, reject) => {
    child.once("message", (m) => resolve(m as Outcome));
    child.once("error", reject);
  });
  return { child, outcome };
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => child.once("exit", () => resolve()));

describe("sqlite state single owner", () => {
  it("refuses a second process while the first owns the file, and lets it in once the first has closed", async () => {
    const file = join(dir, "owned.db");
    const first = await SqliteStateStore.open({ file });
    expect(readOwner(`${file}.lock`)).toEqual({
      pid: process.pid,
      host: hostname(),
      namespace: expect.any(String),
      leaseMs: 30_000,
    });
    const second = openInChild(file);
    const refused = await second.outcome;
    expect(refused.opened).toBe(false);
    expect(refused.code).toBe("STATE_UNAVAILABLE");
    expect(refused.message).toContain(`is in use by another process (pid ${process.pid})`);
    expect(refused.message).toContain("redis://");
    await exited(second.child);

    await first.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
    const third = openInChild(file);
    expect((await third.outcome).opened).toBe(true);
    // and now this process is the one refused
    await expect(SqliteStateStore.open({ file })).rejects.toThrow(/in use by another process/);
    third.child.send("close");
    await exited(third.child);
  });

  it("refuses a second store on the same file in the same process", async () => {
    const file = join(dir, "twice.db");
    const a = await SqliteStateStore.open({ file });
    await expect(SqliteStateStore.open({ file })).rejects.toMatchObject({
      code: "STATE_UNAVAILABLE",
      message: expect.stringMatching(/in use by this process/),
    });
    await a.close();
  });

  it("takes over a lock left by a process that has ended", async () => {
    const file = join(dir, "stale.db");
    const gone = openInChild(join(dir, "other.db"));
    await gone.outcome;
    const pid = gone.child.pid as number;
    gone.child.send("close");
    await exited(gone.child);
    writeFileSync(`${file}.lock`, String(pid));
    const store = await SqliteStateStore.open({ file });
    expect(readOwner(`${file}.lock`)?.pid).toBe(process.pid);
    await store.close();
  });

  it("judges a lock from another namespace by its owner's lease, not by this process's own", async () => {
    const file = join(dir, "leases.db");
    const lock = `${file}.lock`;
    const elsewhere = { pid: 4242, host: "node-b", namespace: "another-boot/pid:[1]" };
    const twoSecondsAgo = new Date(Date.now() - 2_000);
    // An owner with a 1 s lease that stopped renewing 2 s ago is gone, though this process's lease is 30 s.
    writeFileSync(lock, JSON.stringify({ ...elsewhere, leaseMs: 1_000 }));
    utimesSync(lock, twoSecondsAgo, twoSecondsAgo);
    const store = await SqliteStateStore.open({ file });
    expect(readOwner(lock)).toMatchObject({ pid: process.pid, leaseMs: 30_000 });
    await store.close();
    // An owner with the default lease, renewed 2 s ago, is alive, though this process asks for 1 s.
    writeFileSync(lock, JSON.stringify({ ...elsewhere, leaseMs: 30_000 }));
    utimesSync(lock, twoSecondsAgo, twoSecondsAgo);
    await expect(SqliteStateStore.open({ file, leaseMs: 1_000 })).rejects.toMatchObject({
      code: "STATE_UNAVAILABLE",
      message: expect.stringContaining("its lock is taken over once not renewed for 30 s"),
    });
    rmSync(lock);
  });

  it("writes the lease set with ?lease_ms= into its lock, and checks the setting", async () => {
    const store = await openStateStore("sqlite:lease.db?lease_ms=5000", dir);
    expect(readOwner(join(dir, "lease.db.lock"))).toMatchObject({ pid: process.pid, leaseMs: 5_000 });
    await store.close();
    await expect(openStateStore("sqlite:lease.db?lease_ms=500", dir)).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringMatching(/lease_ms '500' in state URL .* must be from 1000 to 600000 milliseconds/),
    });
    expect(() => loadConfig({ flags: { state: "sqlite:?lease_ms=abc" } })).toThrow(
      /lease_ms "abc" .* must be from 1000 to 600000 milliseconds/,
    );
  });

  it("refuses a lock another namespace keeps renewing, and takes it over once its lease has run out", async () => {
    const file = join(dir, "elsewhere.db");
    const lock = `${file}.lock`;
    // A live owner on another host or in another container: this process cannot see its pid.
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: "node-b", namespace: "another-boot/pid:[1]" }));
    await expect(SqliteStateStore.open({ file })).rejects.toMatchObject({
      code: "STATE_UNAVAILABLE",
      message: expect.stringContaining(
        `is in use by a process elsewhere (pid ${process.pid} on 'node-b', another container or host; its lock is taken over once not renewed for 30 s)`,
      ),
    });
    // The owner stopped renewing it a minute ago.
    const before = new Date(Date.now() - 60_000);
    utimesSync(lock, before, before);
    const store = await SqliteStateStore.open({ file });
    expect(readOwner(lock)).toMatchObject({ pid: process.pid, host: hostname() });
    await store.close();
    expect(existsSync(lock)).toBe(false);
  });

  it("renews its lock while it holds it, and stops once released", async () => {
    const file = join(dir, "renewed.db");
    const lock = `${file}.lock`;
    const release = lockStateFile(file, { leaseMs: 600 });
    try {
      const old = new Date(Date.now() - 60_000);
      utimesSync(lock, old, old);
      await new Promise((r) => setTimeout(r, 400));
      expect(Date.now() - statSync(lock).mtimeMs).toBeLessThan(1_000);
    } finally {
      release();
    }
    expect(existsSync(lock)).toBe(false);
  });

  it("knows when its lock was taken over, stops renewing it and leaves it in place on release", async () => {
    const file = join(dir, "taken.db");
    const lock = `${file}.lock`;
    const held = lockStateFile(file, { leaseMs: 600 });
    expect(held.owned()).toBe(true);
    const other = JSON.stringify({ pid: 4242, host: "node-c", namespace: "third-boot/pid:[1]" });
    writeFileSync(lock, other);
    expect(held.owned()).toBe(false);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    await new Promise((r) => setTimeout(r, 400));
    // not renewed on the new owner's behalf
    expect(Date.now() - statSync(lock).mtimeMs).toBeGreaterThan(50_000);
    held();
    expect(readFileSync(lock, "utf8")).toBe(other);
  });

  it("takes over a lock with its own pid that it does not hold (a restarted container's pid 1)", async () => {
    const file = join(dir, "same-pid.db");
    writeFileSync(`${file}.lock`, String(process.pid));
    const store = await SqliteStateStore.open({ file });
    await store.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});
