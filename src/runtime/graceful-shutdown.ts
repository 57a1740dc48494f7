/** Shuts the service down on SIGTERM or SIGINT: finish what is in flight, flush, exit cleanly. */

import type { FastifyBaseLogger } from "fastify";

/**
 * Resolves once a signal arrived and `close` finished. A second signal while closing exits at
 * once with status 1, for an operator who does not want to wait.
 */
export function closeOnSignals(close: () => Promise<void>, logger?: FastifyBaseLogger): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let closing = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (closing) {
        logger?.warn({ signal }, "second signal while shutting down; exiting now");
        process.exit(1);
      }
      closing = true;
      logger?.info({ signal }, "shutting down: finishing requests in flight and flushing the audit trail");
      close().then(
        () => {
          process.off("SIGTERM", onSignal);
          process.off("SIGINT", onSignal);
          logger?.info("shut down");
          resolve();
        },
        (err: unknown) => reject(err),
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
