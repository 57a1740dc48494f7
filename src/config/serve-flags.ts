/** The `serve` flags for audit, enrichment lists, shadow policy, state timeout, request logging and gateway rate limit, for the CLI to register. */

import type { Command } from "commander";

/** Each flag's long name is the option `loadConfig` reads (commander hands it over camel-cased). */
export const RUNTIME_FLAGS: readonly { readonly flags: string; readonly description: string }[] = [
  {
    flags: "--shadow-policy <file>",
    description:
      "candidate policy evaluated beside the active one, audited, never enforced [env SIGNALBOX_SHADOW_POLICY]",
  },
  {
    flags: "--drain-ms <ms>",
    description:
      "on shutdown, fail /healthz and /readyz for this long while still serving, then close [env SIGNALBOX_DRAIN_MS] (default 0)",
  },
  {
    flags: "--state-timeout-ms <ms>",
    description:
      "longest wait for the state store before on_error applies [env SIGNALBOX_STATE_TIMEOUT_MS] (default 50)",
  },
  {
    flags: "--audit-durability <mode>",
    description: "normal | strict [env SIGNALBOX_AUDIT_DURABILITY] (default normal)",
  },
  {
    flags: "--audit-writer-id <id>",
    description: "this node's audit chain id [env SIGNALBOX_AUDIT_WRITER_ID] (default: chosen by the store)",
  },
  {
    flags: "--audit-mask <paths>",
    description: "comma-separated request paths to mask, or none [env SIGNALBOX_AUDIT_MASK]",
  },
  {
    flags: "--audit-mask-key-file <file>",
    description:
      "file holding the masking HMAC key [env SIGNALBOX_AUDIT_MASK_KEY_FILE, or the key in SIGNALBOX_AUDIT_MASK_KEY]",
  },
  {
    flags: "--audit-checkpoint-key-file <file>",
    description:
      "ES256 or Ed25519 private key (PEM or JWK) signing checkpoints [env SIGNALBOX_AUDIT_CHECKPOINT_KEY_FILE]",
  },
  {
    flags: "--audit-checkpoint-every <n>",
    description: "write a checkpoint every N records [env SIGNALBOX_AUDIT_CHECKPOINT_EVERY]",
  },
  {
    flags: "--audit-checkpoint-interval-ms <ms>",
    description: "write a checkpoint this often when records were written [env SIGNALBOX_AUDIT_CHECKPOINT_INTERVAL_MS]",
  },
  {
    flags: "--hosting-asns <file>",
    description: "ASN list marking hosting networks, or off [env SIGNALBOX_HOSTING_ASNS] (default: the shipped list)",
  },
  {
    flags: "--anonymizers <file>",
    description:
      "CIDR list of VPN, proxy and Tor exits, or off [env SIGNALBOX_ANONYMIZERS] (default: the shipped list)",
  },
  {
    flags: "--reputation-dir <dir>",
    description:
      "directory of *.cidr reputation lists, or off [env SIGNALBOX_REPUTATION_DIR] (default: the shipped one)",
  },
  {
    flags: "--log-requests",
    description:
      "write an access-log line for every request, not only errors and slow ones [env SIGNALBOX_LOG_REQUESTS] (default false)",
  },
  {
    flags: "--rate-limit-gateways <bool>",
    description: "apply the API rate limit to /gateway/* too [env SIGNALBOX_RATE_LIMIT_GATEWAYS] (default false)",
  },
];

/** Registers `RUNTIME_FLAGS` on the `serve` command. */
export function addRuntimeFlags(command: Command): Command {
  for (const { flags, description } of RUNTIME_FLAGS) command.option(flags, description);
  return command;
}
