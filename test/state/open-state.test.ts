/** Tests choosing a state adapter from a `--state` URL, and that no password reaches a message. */

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isSignalboxError } from "../../src/errors/signalbox-error.js";
import { maskUrl, openStateStore } from "../../src/state/open-state.js";
import { RedisStateStore } from "../../src/state/redis.js";
import { SqliteStateStore } from "../../src/state/sqlite.js";
import { redisAnswers } from "../support/redis-probe.js";

const dir = mkdtempSync(join(tmpdir(), "signalbox-open-"));
const REDIS = process.env.SIGNALBOX_TEST_REDIS ?? "redis://127.0.0.1:6379/0";

const redisUp = await redisAnswers(REDIS);
if (!redisUp) {
  if (process.env.CI === "true") throw new Error(`redis is not reachable at '${REDIS}' and CI=true: refusing to skip`);
  console.warn(`\n*** SKIPPING the Redis case of openStateStore: no Redis at '${REDIS}' ***\n`);
}

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

  it.skipIf(!redisUp)("takes the population refresh interval from the URL", async () => {
    const store = await openStateStore(`${REDIS}?prefix=sbtest-open:&population_refresh_ms=0`, dir);
    expect(store instanceof RedisStateStore && store.populationRefreshMs).toBe(0);
    await store.close();
    const fallback = await openStateStore(`${REDIS}?prefix=sbtest-open:`, dir);
    expect(fallback instanceof RedisStateStore && fallback.populationRefreshMs).toBe(1000);
    await fallback.close();
  });

  it.skipIf(!redisUp)("takes the number of identity profile copies from the URL", async () => {
    const store = await openStateStore(`${REDIS}?prefix=sbtest-open:&profile_cache_size=0`, dir);
    expect(store instanceof RedisStateStore && store.profileCacheSize).toBe(0);
    await store.close();
    const fallback = await openStateStore(`${REDIS}?prefix=sbtest-open:`, dir);
    expect(fallback instanceof RedisStateStore && fallback.profileCacheSize).toBe(10_000);
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
