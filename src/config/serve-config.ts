/** The decision service's configuration: every option `signalbox serve` understands, resolved and checked. */

import type { EventTimeMode } from "../engine/engine.js";

/** What an API key may do: `decide` asks for decisions, `admin` also records outcomes and reads the audit trail. */
export type ApiKeyRight = "decide" | "admin";

export interface ApiKeyConfig {
  readonly right: ApiKeyRight;
  /** The secret itself; only its SHA-256 digest is kept by the server. */
  readonly key: string;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface RateLimitConfig {
  /** Requests per window per client address; 0 turns the limit off. */
  readonly max: number;
  readonly windowMs: number;
  /** Loopback callers (a sidecar gateway, the test harness) are not limited. */
  readonly exemptLoopback: boolean;
}

export interface ServeConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Policy file; undefined means the shipped default policy. */
  readonly policy: string | undefined;
  /** State store URL; undefined means SQLite under the data directory. */
  readonly state: string | undefined;
  /** Audit store URL; undefined means SQLite under the data directory. */
  readonly audit: string | undefined;
  readonly apiKeys: readonly ApiKeyConfig[];
  /** Envoy gRPC ext_authz port; undefined means off. */
  readonly grpcPort: number | undefined;
  readonly eventTime: EventTimeMode;
  readonly bodyLimitBytes: number;
  readonly jsonDepthLimit: number;
  readonly rateLimit: RateLimitConfig;
  /** Answer AuthZEN batches with exactly `{"decision": bool}` per item. */
  readonly minimalBatch: boolean;
  readonly logLevel: LogLevel;
  /** Honour `X-Forwarded-*` headers (only behind a trusted proxy). */
  readonly trustProxy: boolean;
  /** `databases`: geo, ASN and IP lists from the shipped databases; `pep`: only what the PEP sends. */
  readonly enrichment: "databases" | "pep";
  /** The gateway faces' settings (JWT verification, subject headers, routes), checked by the gateway module. */
  readonly gateway: unknown;
  /** Quiet period before a changed policy file is re-loaded. */
  readonly reloadDebounceMs: number;
}

export const DEFAULT_CONFIG: ServeConfig = Object.freeze({
  port: 8700,
  host: "127.0.0.1",
  dataDir: "./signalbox-data",
  policy: undefined,
  state: undefined,
  audit: undefined,
  apiKeys: [],
  grpcPort: undefined,
  eventTime: "server",
  bodyLimitBytes: 256 * 1024,
  jsonDepthLimit: 32,
  rateLimit: Object.freeze({ max: 6000, windowMs: 60_000, exemptLoopback: true }),
  minimalBatch: false,
  logLevel: "info",
  trustProxy: false,
  enrichment: "databases",
  gateway: undefined,
  reloadDebounceMs: 250,
});
