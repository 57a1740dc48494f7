/**
 * A Redis in Cluster mode is refused at start with an error that says why, instead of every
 * decision failing with CROSSSLOT. The test starts a Cluster-mode redis-server of its own on a free
 * loopback port (the machine's Redis is a single server).
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStateStore } from "../../src/state/open-state.js";
import { redisAnswers } from "../support/redis-probe.js";

const hasServer = spawnSync("redis-server", ["--version"], { encoding: "utf8" }).status === 0;
if (!hasServer) {
  if (process.env.CI === "true") throw new Error("redis-server is not installed and CI=true: refusing to skip");
  console.warn("SKIPPED: redis-server is not installed, so the Cluster-mode refusal is not tested here");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(!hasServer)("redis state on a Cluster-mode server", () => {
  let dir: string;
  let server: ChildProcess;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-redis-cluster-"));
    const port = await freePort();
    url = `redis://127.0.0.1:${port}/0`;
    server = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(dir, "nodes.conf"),
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      { stdio: "ignore" },
    );
    for (let i = 0; i < 100 && !(await redisAnswers(url)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await redisAnswers(url)).toBe(true);
  });
  afterAll(() => {
    server?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("is refused at start with CONFIG_INVALID naming Cluster mode and what to use instead", async () => {
    const err = await openStateStore(url, dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFIG_INVALID" });
    expect(String((err as Error).message)).toMatch(
      /state store at 'redis:\/\/127\.0\.0\.1:\d+\/0': this Redis runs in Cluster mode.*Use a single Redis, with replicas or Sentinel/,
    );
  });
});
