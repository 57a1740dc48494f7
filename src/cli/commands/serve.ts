/** `signalbox serve`: starts the decision service and runs until SIGTERM or SIGINT. */

import type { Command } from "commander";
import { type ConfigFlags, loadConfig } from "../../config/load-config.js";
import { addRuntimeFlags } from "../../config/serve-flags.js";
import { closeOnSignals } from "../../runtime/graceful-shutdown.js";
import { startService } from "../../runtime/start-service.js";
import type { CliIO } from "../io.js";

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerServeCommand(program: Command, io: CliIO): void {
  addRuntimeFlags(program.command("serve"))
    .description("start the decision service (AuthZEN, native, gateway faces, metrics)")
    .option("--port <port>", "HTTP port [env SIGNALBOX_PORT] (default 8700)")
    .option("--host <host>", "address to bind [env SIGNALBOX_HOST] (default 127.0.0.1)")
    .option("--data-dir <dir>", "data directory [env SIGNALBOX_DATA_DIR] (default ./signalbox-data)")
    .option("--policy <file>", "policy file [env SIGNALBOX_POLICY] (default: the shipped policy)")
    .option("--config <file>", "configuration file (YAML or JSON)")
    .option(
      "--state <url>",
      "state store: sqlite:[FILE], memory:, redis://host:port/db, redis+sentinel://host:port[,…]/primary/db [env SIGNALBOX_STATE]",
    )
    .option("--audit <url>", "audit store: sqlite:[FILE], postgresql://…, off [env SIGNALBOX_AUDIT]")
    .option(
      "--api-key <key>",
      "API key, repeatable: KEY (decide), admin:KEY (decide and admin) [env SIGNALBOX_API_KEYS, comma-separated]",
      collect,
      [],
    )
    .option("--grpc-port <port>", "Envoy gRPC ext_authz port [env SIGNALBOX_GRPC_PORT] (default off)")
    .option("--event-time <mode>", "server | request [env SIGNALBOX_EVENT_TIME] (default server)")
    .option("--body-limit <size>", "largest request body, e.g. 256kb [env SIGNALBOX_BODY_LIMIT]")
    .option("--json-depth-limit <n>", "deepest JSON nesting [env SIGNALBOX_JSON_DEPTH_LIMIT] (default 32)")
    .option("--rate-limit <n>", "requests per window per client, 0 = off [env SIGNALBOX_RATE_LIMIT] (default 6000)")
    .option("--rate-limit-window-ms <ms>", "rate-limit window [env SIGNALBOX_RATE_LIMIT_WINDOW_MS] (default 60000)")
    .option(
      "--rate-limit-loopback <bool>",
      "exempt loopback callers [env SIGNALBOX_RATE_LIMIT_LOOPBACK] (default true)",
    )
    .option("--minimal-batch", "answer AuthZEN batches with exactly {decision} per item [env SIGNALBOX_MINIMAL_BATCH]")
    .option("--enrichment <mode>", "databases | pep [env SIGNALBOX_ENRICHMENT] (default databases)")
    .option("--log-level <level>", "fatal, error, warn, info, debug, trace, silent [env SIGNALBOX_LOG_LEVEL]")
    .option("--trust-proxy", "honour X-Forwarded-* headers [env SIGNALBOX_TRUST_PROXY]")
    .action(async (flags: Record<string, string | boolean | string[] | undefined>) => {
      const apiKey = flags.apiKey;
      const cleaned: ConfigFlags = {
        ...flags,
        apiKey: Array.isArray(apiKey) && apiKey.length > 0 ? apiKey : undefined,
      };
      const config = loadConfig({ flags: cleaned, env: process.env });
      const service = await startService(config);
      // The listening line comes last: scripts and tests wait for it, and everything said before it
      // is then already on the stream.
      if (config.apiKeys.length === 0) io.out("no API keys configured: every call is accepted");
      if (service.grpcPort !== undefined) io.out(`signalbox gRPC ext_authz on port ${service.grpcPort}`);
      io.out(`signalbox listening on ${service.url}`);
      await closeOnSignals(() => service.close(), service.app.log);
    });
}
