/** Tests choosing a state adapter from a `--state` URL, and that no password reaches a message. */

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isSignalboxError } from "../../src/errors/signalbox-error.js";
import { maskUrl, openStateStore } from "../../src/state/open-state.js";
import { RedisStateStore } from "../../src/state/redis.js";
import { SqliteStateStore } from "../../src/state/sqlite.js";
import { redisFor } from "../support/redis-probe.js";

const dir = mkdtempSync(join(tmpdir(), "signalbox-open-"));
const REDIS = process.env.SIGNALBOX_TEST_REDIS ?? "redis://127.0.0.1:6379/0";

const redisUp = await redisFor("the Redis case of openStateStore", REDIS);

async function errorOf(work: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSignalboxError(err)) throw new Error(`expected a SignalboxError, got ${String(err)}`);
  return { code: err.code, message: err.message };
}

describe("openStateStore", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("opens SQLite at <dataDir>/state.db when no URL or a bare sqlite: is given", async () => {
    for (const url of [undefined, "", "sqlite:", "sqlite://"]) {
      const data = join(dir, `default-${String(url?.length)}`);
      const store = await openStateStore(url, data);
      expect(store.kind).toBe("sqlite");
      await store.write([{ op: "set", profile: "user:a", field: "x", value: 1 }], 0);
      await store.close();
      expect(existsSync(join(data, "state.db"))).toBe(true);
    }
  });

  it("opens SQLite at an absolute path, a path under the data directory, and in strict mode", async () => {
    const abs = join(dir, "elsewhere", "s.db");
    const a = await openStateStore(`sqlite://${abs}`, join(dir, "unused"));
    await a.close();
    expect(existsSync(abs)).toBe(true);
    const b = await openStateStore("sqlite:sub/rel.db?strict=true", join(dir, "data"));
    expect(b).toBeInstanceOf(SqliteStateStore);
    expect((b as SqliteStateStore).pragmas().synchronous).toBe(2);
    await b.close();
    expect(existsSync(join(dir, "data", "sub", "rel.db"))).toBe(true);
  });

  it("opens the memory store", async () => {
    const store = await openStateStore("memory:", dir);
    expect(store.kind).toBe("memory");
    await store.close();
  });

  it.skipIf(!redisUp)("opens and connects a Redis store", async () => {
    const store = await openStateStore(`${REDIS}?prefix=sbtest-open:&timeout_ms=500`, dir);
    expect(store.kind).toBe("redis");
    const snap = await store.read({ profiles: ["user:nobody"], counters: [], claims: [] }, 0);
    expect(snap.profiles.get("user:nobody")).toEqual({ sets: {}, values: {} });
    await store.close();
  });

  it.skipIf(!redisUp).each([
    ["population refresh interval", "population_refresh_ms", (s: RedisStateStore) => s.populationRefreshMs, 1000],
    ["number of identity profile copies", "profile_cache_size", (s: RedisStateStore) => s.profileCacheSize, 10_000],
  ] as const)("takes the %s from the URL", async (_what, param, setting, fallbackValue) => {
    const store = await openStateStore(`${REDIS}?prefix=sbtest-open:&${param}=0`, dir);
    expect(store instanceof RedisStateStore && setting(store)).toBe(0);
    await store.close();
    const fallback = await openStateStore(`${REDIS}?prefix=sbtest-open:`, dir);
    expect(fallback instanceof RedisStateStore && setting(fallback)).toBe(fallbackValue);
    await fallback.close();
  });

  it("fails at open, naming the masked URL, when Redis cannot be reached", async () => {
    const err = await errorOf(openStateStore("redis://admin:s3cret@127.0.0.1:1/0?timeout_ms=300", dir));
    expect(err.code).toBe("STATE_UNAVAILABLE");
    expect(err.message).toContain("redis://admin:***@127.0.0.1:1/0");
    expect(err.message).not.toContain("s3cret");
  });

  it("rejects an unknown scheme or bad option with CONFIG_INVALID and never prints the password", async () => {
    const unknown = await errorOf(openStateStore("postgres://bob:hunter2@db:5432/x", dir));
    expect(unknown.code).toBe("CONFIG_INVALID");
    expect(unknown.message).toContain("'postgres://bob:***@db:5432/x'");
    expect(unknown.message).not.toContain("hunter2");
    const plain = await errorOf(openStateStore("nonsense", dir));
    expect(plain.code).toBe("CONFIG_INVALID");
    expect(plain.message).toContain("'nonsense'");
    const timeout = await errorOf(openStateStore("redis://:pw@127.0.0.1:6379?timeout_ms=soon", dir));
    expect(timeout.code).toBe("CONFIG_INVALID");
    expect(timeout.message).not.toContain(":pw@");
    const refresh = await errorOf(openStateStore("redis://:pw@127.0.0.1:6379?population_refresh_ms=-1", dir));
    expect(refresh.code).toBe("CONFIG_INVALID");
    expect(refresh.message).toContain("population_refresh_ms");
    const copies = await errorOf(openStateStore("redis://:pw@127.0.0.1:6379?profile_cache_size=lots", dir));
    expect(copies.code).toBe("CONFIG_INVALID");
    expect(copies.message).toContain("profile_cache_size");
    const strict = await errorOf(openStateStore("sqlite:x.db?strict=maybe", dir));
    expect(strict.code).toBe("CONFIG_INVALID");
  });

  it("masks passwords in user info and parameters", () => {
    expect(maskUrl("redis://user:p%40ss@host:6379/0")).toBe("redis://user:***@host:6379/0");
    expect(maskUrl("rediss://onlysecret@host")).toBe("rediss://***@host");
    expect(maskUrl("redis://host:6379?password=x&db=1")).toBe("redis://host:6379?password=***&db=1");
    expect(maskUrl("redis://host:6379/0")).toBe("redis://host:6379/0");
  });
});
