/** One process owns a SQLite state file: a second one is refused with a clear error; a lock left by a dead process is taken over. */

import { type ChildProcess, fork } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SqliteStateStore } from "../../src/state/sqlite.js";

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
    expect(readFileSync(`${file}.lock`, "utf8")).toBe(String(process.pid));
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
    expect(readFileSync(`${file}.lock`, "utf8")).toBe(String(process.pid));
    await store.close();
  });

  it("takes over a lock with its own pid that it does not hold (a restarted container's pid 1)", async () => {
    const file = join(dir, "same-pid.db");
    writeFileSync(`${file}.lock`, String(process.pid));
    const store = await SqliteStateStore.open({ file });
    await store.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});
