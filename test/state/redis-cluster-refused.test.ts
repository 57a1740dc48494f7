/**
 * A Redis in Cluster mode is refused at start with an error that says why, instead of every
 * decision failing with CROSSSLOT. The test starts a Cluster-mode redis-server of its own on a free
 * loopback port (the machine's Redis is a single server).
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStateStore } from "../../src/state/open-state.js";
import { RedisProcess, redisServerFor } from "../scaleout/redis-process.js";

const installed = await redisServerFor("the Cluster-mode refusal test");

describe.skipIf(!installed)("redis state on a Cluster-mode server", () => {
  let dir: string;
  let server: RedisProcess;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-redis-cluster-"));
    server = await RedisProcess.start([
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      join(dir, "nodes.conf"),
      "--dir",
      dir,
    ]);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is refused at start with CONFIG_INVALID naming Cluster mode and what to use instead", async () => {
    const err = await openStateStore(server.url, dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFIG_INVALID" });
    expect(String((err as Error).message)).toMatch(
      /state store at 'redis:\/\/127\.0\.0\.1:\d+\/0': this Redis runs in Cluster mode.*Use a single Redis, with replicas or Sentinel/,
    );
  });
});
