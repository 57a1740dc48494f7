/** The decision service's configuration: every option `signalbox serve` understands, resolved and checked. */

import type { EventTimeMode } from "../engine/engine.js";
import { SHIPPED_LISTS } from "../enrich/database-enricher.js";
import type { Secret } from "./secret.js";

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
  /**
   * Limit the gateway faces (`/gateway/*`) too. Off by default: their caller is a gateway relaying
   * every end user, and a 429 there becomes a deny for all of them. Absent means false.
   */
  readonly gateways?: boolean;
}

export type AuditDurability = "normal" | "strict";

/** How the audit trail writes: durability, chain id, masking and signed checkpoints. */
export interface AuditTrailConfig {
  /** `strict` syncs every batch to disk (SQLite `synchronous=FULL`, PostgreSQL `synchronous_commit=on`). */
  readonly durability: AuditDurability;
  /** This node's chain id; undefined lets the store choose (see the audit documentation). */
  readonly writerId: string | undefined;
  /** Dotted request paths to mask; undefined means the trail's default list. */
  readonly mask: readonly string[] | undefined;
  /** HMAC key for masking; undefined means the random key kept in the store. */
  readonly maskKey: Secret | undefined;
  /** PEM or JWK file with the ES256 or Ed25519 key that signs checkpoints. */
  readonly checkpointKeyFile: string | undefined;
  readonly checkpointEvery: number | undefined;
  readonly checkpointIntervalMs: number | undefined;
}

/** The operator's network lists read by the `databases` enrichment; `false` turns a list off. */
export interface NetworkListConfig {
  readonly hostingAsnsFile: string | false;
  readonly anonymizersFile: string | false;
  readonly reputationDir: string | false;
}

export interface ServeConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Policy file; undefined means the shipped default policy. */
  readonly policy: string | undefined;
  /** A candidate policy evaluated beside the active one, recorded with `shadow: true`, never enforced. */
  readonly shadowPolicy: string | undefined;
  /** State store URL; undefined means SQLite under the data directory. */
  readonly state: string | undefined;
  /** Longest wait for the state store before the segment's `on_error` applies. */
  readonly stateTimeoutMs: number;
  /**
   * On shutdown, how long `/healthz` and `/readyz` answer 503 while requests are still served, so
   * that a load balancer stops routing here before the listener closes. 0: close at once.
   */
  readonly drainMs: number;
  /** Audit store URL; undefined means SQLite under the data directory. */
  readonly audit: string | undefined;
  readonly auditTrail: AuditTrailConfig;
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
  /** Write an access-log line for every request; otherwise only for errors and slow requests. */
  readonly logRequests: boolean;
  /** Honour `X-Forwarded-*` headers (only behind a trusted proxy). */
  readonly trustProxy: boolean;
  /** `databases`: geo, ASN and IP lists from the shipped databases; `pep`: only what the PEP sends. */
  readonly enrichment: "databases" | "pep";
  readonly lists: NetworkListConfig;
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
  shadowPolicy: undefined,
  state: undefined,
  stateTimeoutMs: 50,
  drainMs: 0,
  audit: undefined,
  auditTrail: Object.freeze({
    durability: "normal",
    writerId: undefined,
    mask: undefined,
    maskKey: undefined,
    checkpointKeyFile: undefined,
    checkpointEvery: undefined,
    checkpointIntervalMs: undefined,
  }),
  apiKeys: [],
  grpcPort: undefined,
  eventTime: "server",
  bodyLimitBytes: 256 * 1024,
  jsonDepthLimit: 32,
  rateLimit: Object.freeze({ max: 6000, windowMs: 60_000, exemptLoopback: true, gateways: false }),
  minimalBatch: false,
  logLevel: "info",
  logRequests: false,
  trustProxy: false,
  enrichment: "databases",
  lists: Object.freeze({
    hostingAsnsFile: SHIPPED_LISTS.hostingAsnsFile,
    anonymizersFile: SHIPPED_LISTS.anonymizersFile,
    reputationDir: SHIPPED_LISTS.reputationDir,
  }),
  gateway: undefined,
  reloadDebounceMs: 250,
});
