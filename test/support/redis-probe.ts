/** Whether a Redis answers PING at a URL, asked once without retries or queueing (for test set-up). */

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
