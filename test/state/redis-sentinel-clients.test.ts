/**
 * The Redis client made for a Sentinel URL gives every connection it opens to a sentinel an error
 * listener, including the failover detector's, which ioredis leaves without one (it then prints
 * "[ioredis] Unhandled error event" to stderr when such a connection fails, e.g. when a store is
 * closed while the detector connects; redis/ioredis#1600). This reaches into ioredis's connector on
 * purpose: should a later ioredis open those connections elsewhere, this fails and says so.
 */

import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { client } from "../../src/state/redis-client.js";
import { redisTarget } from "../../src/state/redis-target.js";

type Connector = { connectToSentinel?: (endpoint: { host: string; port: number }, options?: object) => Redis };

describe("the Sentinel client's own connections to the sentinels", () => {
  it("each get an error listener, the failover detector's included", () => {
    const redis = client(redisTarget("redis+sentinel://127.0.0.1:1/primary/0", "test"), { lazyConnect: true }, 100);
    try {
      const connector = (redis as unknown as { connector?: Connector }).connector;
      expect(typeof connector?.connectToSentinel, "ioredis's SentinelConnector.connectToSentinel").toBe("function");
      // What the failover detector asks for (SentinelConnector.initFailoverDetector).
      const sentinel = connector?.connectToSentinel?.({ host: "127.0.0.1", port: 1 }, { lazyConnect: true });
      expect(sentinel?.listenerCount("error")).toBeGreaterThan(0);
      sentinel?.disconnect();
    } finally {
      redis.disconnect();
    }
  });

  it("leaves the other targets' clients as ioredis makes them", () => {
    const redis = client(redisTarget("redis://127.0.0.1:1/0", "test"), { lazyConnect: true }, 100);
    try {
      expect((redis as unknown as { connector?: Connector }).connector?.connectToSentinel).toBeUndefined();
    } finally {
      redis.disconnect();
    }
  });
});
