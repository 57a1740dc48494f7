/** Redis state URLs: one server passed on whole, Sentinel and Cluster URLs read part by part with errors that say what is wrong. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { maskUrl } from "../../src/state/mask-url.js";
import { openStateStore } from "../../src/state/open-state.js";
import { redisTarget } from "../../src/state/redis-target.js";

const target = (url: string) => redisTarget(url, maskUrl(url));
const dir = mkdtempSync(join(tmpdir(), "signalbox-redis-target-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("redisTarget", () => {
  it("passes a one-server URL on whole, to be read by the Redis client", () => {
    expect(target("redis://u:p@host:6380/2?family=6")).toEqual({
      kind: "server",
      url: "redis://u:p@host:6380/2?family=6",
    });
    expect(target("rediss://host")).toEqual({ kind: "server", url: "rediss://host" });
  });

  it("reads the sentinels, the primary's name, the database and both sets of credentials", () => {
    expect(
      target(
        "redis+sentinel://app:p%40ss@10.0.0.1:26380,sentinel-b,[::1]:26381/my%20primary/3?sentinel_username=watch&sentinel_password=s3",
      ),
    ).toEqual({
      kind: "sentinel",
      sentinels: [
        { host: "10.0.0.1", port: 26380 },
        { host: "sentinel-b", port: 26379 },
        { host: "::1", port: 26381 },
      ],
      name: "my primary",
      db: 3,
      username: "app",
      password: "p@ss",
      sentinelUsername: "watch",
      sentinelPassword: "s3",
      tls: false,
    });
  });

  it("defaults the database to 0, takes a password without a user, and TLS from rediss+sentinel", () => {
    expect(target("rediss+sentinel://:secret@s1/main")).toEqual({
      kind: "sentinel",
      sentinels: [{ host: "s1", port: 26379 }],
      name: "main",
      db: 0,
      password: "secret",
      tls: true,
    });
  });

  it.each([
    ["redis+sentinel:///main/0", /names no sentinel/],
    ["redis+sentinel://s1:26379", /names no primary/],
    ["redis+sentinel://s1:26379/", /names no primary/],
    ["redis+sentinel://s1:26379/main/x", /database 'x' that is not a whole number/],
    ["redis+sentinel://s1:26379/main/0/extra", /path longer than/],
    ["redis+sentinel://s1:99999/main", /sentinel 's1:99999' whose port is not between 1 and 65535/],
    ["redis+sentinel://s1:26379,,s2/main", /sentinel '' that is not host\[:port\]/],
    ["redis+sentinel://s1:26379/main?family=6", /parameter 'family' that a Sentinel URL does not take/],
    ["redis+sentinel://u:%E0%A4%A@s1/main", /badly escaped password/],
  ])("refuses %s", (url, message) => {
    expect(() => target(url)).toThrow(message);
    try {
      target(url);
    } catch (err) {
      expect(err).toMatchObject({ code: "CONFIG_INVALID" });
    }
  });

  it("masks the passwords of a Sentinel URL in its errors", () => {
    expect(() => target("redis+sentinel://app:hunter2@s1/main/x?sentinel_password=hunter3")).toThrow(
      "state URL 'redis+sentinel://app:***@s1/main/x?sentinel_password=***' has a database 'x'",
    );
  });
});

describe("redisTarget of a Cluster URL", () => {
  it("reads the nodes (port 6379 by default), the credentials and TLS", () => {
    expect(target("redis+cluster://app:p%40ss@10.0.0.1:7000,node-b,[::1]:7002")).toEqual({
      kind: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "node-b", port: 6379 },
        { host: "::1", port: 7002 },
      ],
      username: "app",
      password: "p@ss",
      tls: false,
    });
    expect(target("rediss+cluster://:secret@n1:7000/0")).toEqual({
      kind: "cluster",
      nodes: [{ host: "n1", port: 7000 }],
      password: "secret",
      tls: true,
    });
    expect(target("redis+cluster://n1:7000/")).toMatchObject({ kind: "cluster", nodes: [{ host: "n1", port: 7000 }] });
  });

  it.each([
    ["redis+cluster://", /names no cluster node/],
    ["redis+cluster:///0", /names no cluster node/],
    ["redis+cluster://n1:7000/2", /path '\/2': a Redis Cluster has only database 0/],
    ["redis+cluster://n1:7000/0/x", /path '\/0\/x'/],
    ["redis+cluster://n1:0", /cluster node 'n1:0' whose port is not between 1 and 65535/],
    ["redis+cluster://n1,,n2", /cluster node '' that is not host\[:port\]/],
    ["redis+cluster://n1?family=6", /parameter 'family' that a Cluster URL does not take/],
  ])("refuses %s", (url, message) => {
    expect(() => target(url)).toThrow(message);
    expect(() => target(url)).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
  });

  it("masks the password of a Cluster URL in its errors", () => {
    expect(() => target("redis+cluster://app:hunter2@n1/5")).toThrow(
      "state URL 'redis+cluster://app:***@n1/5' has a path",
    );
  });

  it("is checked by openStateStore before connecting, and an unreachable cluster fails within the timeout", async () => {
    const bad = await openStateStore("redis+cluster://n1/5?prefix=sb:", dir).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: "CONFIG_INVALID" });
    const split = await openStateStore("redis+cluster://n1?cluster_split=shard", dir).catch((e: unknown) => e);
    expect(split).toMatchObject({ code: "CONFIG_INVALID" });
    expect(String((split as Error).message)).toBe(
      "cluster_split 'shard' in state URL 'redis+cluster://n1?cluster_split=shard' must be node or slot",
    );
    const started = Date.now();
    const err = await openStateStore("redis+cluster://127.0.0.1:1?timeout_ms=300", dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STATE_UNAVAILABLE" });
    expect(String((err as Error).message)).toContain("redis+cluster://127.0.0.1:1");
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("openStateStore with a Sentinel URL", () => {
  it("refuses a bad Sentinel URL before connecting, naming the URL with its password masked", async () => {
    const err = await openStateStore("redis+sentinel://app:hunter2@s1/main/x?prefix=sb:", dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFIG_INVALID" });
    expect(String((err as Error).message)).toBe(
      "state URL 'redis+sentinel://app:***@s1/main/x?prefix=sb:' has a database 'x' that is not a whole number",
    );
  });

  it("checks Signalbox's own parameters on a Sentinel URL too", async () => {
    const err = await openStateStore("redis+sentinel://s1/main?timeout_ms=soon", dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFIG_INVALID" });
    expect(String((err as Error).message)).toContain("timeout_ms 'soon'");
  });

  it("fails with STATE_UNAVAILABLE within the timeout when no sentinel answers", async () => {
    const started = Date.now();
    const err = await openStateStore("redis+sentinel://127.0.0.1:1/main?timeout_ms=300", dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STATE_UNAVAILABLE" });
    expect(String((err as Error).message)).toContain("redis+sentinel://127.0.0.1:1/main");
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
