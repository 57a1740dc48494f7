/**
 * One-off connections to a Redis for test set-up, without retries or queueing: whether one answers
 * PING at a URL, and a question asked of the server on a port.
 */

import { Redis } from "ioredis";

export async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * Whether a suite that needs the Redis at `url` can run: says loudly why not (`suite` names it in
 * the warning), and refuses to skip in CI.
 */
export async function redisFor(suite: string, url: string): Promise<boolean> {
  if (await redisAnswers(url)) return true;
  if (process.env.CI === "true") throw new Error(`redis is not reachable at '${url}' and CI=true: refusing to skip`);
  console.warn(`\n*** SKIPPING ${suite}: no Redis at '${url}' ***\n`);
  return false;
}

/** Runs `use` on a one-off connection to the server on `port` that never retries, and always closes it. */
export async function withServer<T>(port: number, use: (server: Redis) => Promise<T>): Promise<T> {
  const server = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  server.on("error", () => {});
  try {
    await server.connect();
    return await use(server);
  } finally {
    server.disconnect();
  }
}
