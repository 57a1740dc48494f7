/** Resolves the service configuration from flags, environment and a config file (in that order of precedence). */

import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { loadCheckpointSigner } from "../audit/checkpoint-key.js";
import type { Problem } from "../errors/signalbox-error.js";
import { SignalboxError } from "../errors/signalbox-error.js";
import { maskUrl } from "../state/mask-url.js";
import {
  CLUSTER_SCHEMES,
  isMultiHostScheme,
  redisTarget,
  SENTINEL_SCHEMES,
  splitStateUrl,
} from "../state/redis-target.js";
import { tlsParamProblem } from "../state/redis-tls.js";
import { configuredLease, LEASE_RULE } from "../state/sqlite-lock.js";
import { parseApiKey, splitKeyList } from "./api-keys.js";
import { Secret } from "./secret.js";
import {
  type ApiKeyConfig,
  type AuditDurability,
  DEFAULT_CONFIG,
  LOG_LEVELS,
  type LogLevel,
  type ServeConfig,
} from "./serve-config.js";

/** Flag values as the CLI parser hands them over (strings, booleans, repeated flags as arrays). */
export type ConfigFlags = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

export interface ConfigSources {
  readonly flags?: ConfigFlags;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reads the `--config` file; injectable for tests. */
  readonly readFile?: (path: string) => string;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

interface OptionSpec<T> {
  /** Flag name as in `--port`, the key in the CLI's flag object, the env variable and the dotted config-file key. */
  readonly flag: string;
  readonly flagKey: string;
  readonly env: string;
  readonly fileKey: string;
  readonly parse: (raw: unknown) => Parsed<T>;
  /** Paths in a config file are relative to the file. */
  readonly fileRelativePath?: boolean;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(message: string): Parsed<T> => ({ ok: false, message });

function show(raw: unknown): string {
  return typeof raw === "string" ? `"${raw}"` : (JSON.stringify(raw) ?? String(raw));
}

function integer(min: number, max: number) {
  return (raw: unknown): Parsed<number> => {
    const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < min || n > max)
      return bad(`${show(raw)} is not an integer between ${min} and ${max}`);
    return ok(n);
  };
}

const port = integer(0, 65_535);

function text(raw: unknown): Parsed<string> {
  if (typeof raw !== "string" || raw.trim().length === 0) return bad(`${show(raw)} is not a non-empty string`);
  return ok(raw.trim());
}

function oneOf<T extends string>(values: readonly T[]) {
  return (raw: unknown): Parsed<T> => {
    if (typeof raw === "string" && (values as readonly string[]).includes(raw)) return ok(raw as T);
    return bad(`${show(raw)} is not one of ${values.join(", ")}`);
  };
}

function flag(raw: unknown): Parsed<boolean> {
  if (typeof raw === "boolean") return ok(raw);
  if (typeof raw === "string") {
    const v = raw.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(v)) return ok(true);
    if (["false", "0", "no", "off"].includes(v)) return ok(false);
  }
  return bad(`${show(raw)} is not a boolean (true or false)`);
}

const UNITS: Readonly<Record<string, number>> = { "": 1, b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2 };

function bytes(raw: unknown): Parsed<number> {
  if (typeof raw === "number" && Number.isInteger(raw) && raw >= 1024 && raw <= 64 * 1024 ** 2) return ok(raw);
  if (typeof raw === "string") {
    const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(raw);
    const unit = UNITS[(m?.[2] ?? "x").toLowerCase()];
    if (m?.[1] !== undefined && unit !== undefined) return bytes(Number(m[1]) * unit);
  }
  return bad(`${show(raw)} is not a size between 1kb and 64mb (bytes, or with kb / mb)`);
}

/** A path, or `off` / `none` for no list at all. */
function listPath(raw: unknown): Parsed<string | false> {
  if (typeof raw === "boolean" && !raw) return ok(false);
  const parsed = text(raw);
  if (!parsed.ok) return bad(`${parsed.message}; give a path, or off`);
  return ["off", "none", "false"].includes(parsed.value.toLowerCase()) ? ok(false) : parsed;
}

const WRITER_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

function writerId(raw: unknown): Parsed<string> {
  if (typeof raw === "string" && WRITER_ID.test(raw.trim())) return ok(raw.trim());
  return bad(
    `${show(raw)} is not a writer id (1 to 128 letters, digits and . _ : @ -, starting with a letter or digit)`,
  );
}

const DOTTED_PATH = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/;

/** Dotted request paths, comma-separated or a list; `none` masks nothing. */
function maskList(raw: unknown): Parsed<string[]> {
  const items = typeof raw === "string" ? raw.split(",").map((s) => s.trim()) : Array.isArray(raw) ? raw : undefined;
  if (items === undefined) return bad(`${show(raw)} is not a list of dotted request paths`);
  if (items.length === 1 && items[0] === "none") return ok([]);
  const out: string[] = [];
  for (const [i, item] of items.entries()) {
    if (typeof item !== "string" || !DOTTED_PATH.test(item.trim()))
      return bad(`entry ${i + 1} (${show(item)}) is not a dotted request path such as context.session.id`);
    out.push(item.trim());
  }
  if (out.length === 0) return bad("is empty; to mask nothing say none");
  return ok(out);
}

const STATE_SCHEMES = ["memory", "sqlite", "redis", "rediss", ...SENTINEL_SCHEMES, ...CLUSTER_SCHEMES];

/** A state URL `openStateStore` understands; its parameters are checked here so the error names the flag. */
function stateUrl(raw: unknown): Parsed<string> {
  const parsed = text(raw);
  if (!parsed.ok) return parsed;
  const url = parsed.value;
  const shown = `"${maskUrl(url)}"`;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase() ?? "";
  if (!STATE_SCHEMES.includes(scheme))
    return bad(
      `${shown} is not a state URL; use memory:, sqlite:[FILE][?strict=true], redis://host:port/db, redis+sentinel://host:port[,host:port]/primary-name/db or redis+cluster://host:port[,host:port]`,
    );
  const params = new URLSearchParams(url.split("?", 2)[1] ?? "");
  if (scheme === "sqlite") {
    const strict = params.get("strict");
    if (strict !== null && !["", "true", "false", "1", "0"].includes(strict))
      return bad(`strict "${strict}" in ${shown} must be true or false`);
    const lease = params.get("lease_ms");
    if (lease !== null && configuredLease(lease) === undefined)
      return bad(`lease_ms "${lease}" in ${shown} ${LEASE_RULE}`);
  }
  if (scheme.startsWith("redis")) {
    const timeout = params.get("timeout_ms");
    if (timeout !== null && !/^[1-9]\d{0,6}$/.test(timeout))
      return bad(`timeout_ms "${timeout}" in ${shown} must be a whole number of milliseconds above 0`);
    const split = params.get("cluster_split");
    if (split !== null && split !== "node" && split !== "slot")
      return bad(`cluster_split "${split}" in ${shown} must be node or slot`);
    const tls = tlsParamProblem(scheme, params);
    if (tls !== undefined) return bad(`${shown}: ${tls}`);
  }
  if (isMultiHostScheme(scheme)) {
    // The hosts, name and database of a Sentinel or Cluster URL, checked here so the error names the flag.
    try {
      redisTarget(splitStateUrl(url).connection, maskUrl(url));
    } catch (err) {
      return bad((err as Error).message);
    }
  }
  return ok(url);
}

function apiKeys(raw: unknown): Parsed<ApiKeyConfig[]> {
  const specs = typeof raw === "string" ? splitKeyList(raw) : Array.isArray(raw) ? raw : undefined;
  if (specs === undefined) return bad("is not a list of API keys");
  const out: ApiKeyConfig[] = [];
  for (const [i, spec] of specs.entries()) {
    if (typeof spec !== "string") return bad(`entry ${i + 1} is not a string`);
    for (const part of splitKeyList(spec)) {
      const key = parseApiKey(part);
      if (typeof key === "string") return bad(`entry ${i + 1}: ${key}`);
      out.push(key);
    }
  }
  return ok(out);
}

const OPTIONS = {
  port: { flag: "--port", flagKey: "port", env: "SIGNALBOX_PORT", fileKey: "port", parse: port },
  host: { flag: "--host", flagKey: "host", env: "SIGNALBOX_HOST", fileKey: "host", parse: text },
  dataDir: {
    flag: "--data-dir",
    flagKey: "dataDir",
    env: "SIGNALBOX_DATA_DIR",
    fileKey: "dataDir",
    parse: text,
    fileRelativePath: true,
  },
  policy: {
    flag: "--policy",
    flagKey: "policy",
    env: "SIGNALBOX_POLICY",
    fileKey: "policy",
    parse: text,
    fileRelativePath: true,
  },
  shadowPolicy: {
    flag: "--shadow-policy",
    flagKey: "shadowPolicy",
    env: "SIGNALBOX_SHADOW_POLICY",
    fileKey: "shadowPolicy",
    parse: text,
    fileRelativePath: true,
  },
  state: { flag: "--state", flagKey: "state", env: "SIGNALBOX_STATE", fileKey: "state", parse: stateUrl },
  stateTimeoutMs: {
    flag: "--state-timeout-ms",
    flagKey: "stateTimeoutMs",
    env: "SIGNALBOX_STATE_TIMEOUT_MS",
    fileKey: "stateTimeoutMs",
    parse: integer(1, 60_000),
  },
  drainMs: {
    flag: "--drain-ms",
    flagKey: "drainMs",
    env: "SIGNALBOX_DRAIN_MS",
    fileKey: "drainMs",
    parse: integer(0, 300_000),
  },
  audit: { flag: "--audit", flagKey: "audit", env: "SIGNALBOX_AUDIT", fileKey: "audit", parse: text },
  auditDurability: {
    flag: "--audit-durability",
    flagKey: "auditDurability",
    env: "SIGNALBOX_AUDIT_DURABILITY",
    fileKey: "auditTrail.durability",
    parse: oneOf<AuditDurability>(["normal", "strict"]),
  },
  auditWriterId: {
    flag: "--audit-writer-id",
    flagKey: "auditWriterId",
    env: "SIGNALBOX_AUDIT_WRITER_ID",
    fileKey: "auditTrail.writerId",
    parse: writerId,
  },
  auditMask: {
    flag: "--audit-mask",
    flagKey: "auditMask",
    env: "SIGNALBOX_AUDIT_MASK",
    fileKey: "auditTrail.mask",
    parse: maskList,
  },
  auditMaskKeyFile: {
    flag: "--audit-mask-key-file",
    flagKey: "auditMaskKeyFile",
    env: "SIGNALBOX_AUDIT_MASK_KEY_FILE",
    fileKey: "auditTrail.maskKeyFile",
    parse: text,
    fileRelativePath: true,
  },
  auditCheckpointKeyFile: {
    flag: "--audit-checkpoint-key-file",
    flagKey: "auditCheckpointKeyFile",
    env: "SIGNALBOX_AUDIT_CHECKPOINT_KEY_FILE",
    fileKey: "auditTrail.checkpointKeyFile",
    parse: text,
    fileRelativePath: true,
  },
  auditCheckpointEvery: {
    flag: "--audit-checkpoint-every",
    flagKey: "auditCheckpointEvery",
    env: "SIGNALBOX_AUDIT_CHECKPOINT_EVERY",
    fileKey: "auditTrail.checkpointEvery",
    parse: integer(1, 100_000_000),
  },
  auditCheckpointIntervalMs: {
    flag: "--audit-checkpoint-interval-ms",
    flagKey: "auditCheckpointIntervalMs",
    env: "SIGNALBOX_AUDIT_CHECKPOINT_INTERVAL_MS",
    fileKey: "auditTrail.checkpointIntervalMs",
    parse: integer(1000, 86_400_000),
  },
  apiKeys: { flag: "--api-key", flagKey: "apiKey", env: "SIGNALBOX_API_KEYS", fileKey: "apiKeys", parse: apiKeys },
  grpcPort: { flag: "--grpc-port", flagKey: "grpcPort", env: "SIGNALBOX_GRPC_PORT", fileKey: "grpcPort", parse: port },
  eventTime: {
    flag: "--event-time",
    flagKey: "eventTime",
    env: "SIGNALBOX_EVENT_TIME",
    fileKey: "eventTime",
    parse: oneOf(["server", "request"] as const),
  },
  bodyLimitBytes: {
    flag: "--body-limit",
    flagKey: "bodyLimit",
    env: "SIGNALBOX_BODY_LIMIT",
    fileKey: "bodyLimit",
    parse: bytes,
  },
  jsonDepthLimit: {
    flag: "--json-depth-limit",
    flagKey: "jsonDepthLimit",
    env: "SIGNALBOX_JSON_DEPTH_LIMIT",
    fileKey: "jsonDepthLimit",
    parse: integer(4, 1000),
  },
  rateLimitMax: {
    flag: "--rate-limit",
    flagKey: "rateLimit",
    env: "SIGNALBOX_RATE_LIMIT",
    fileKey: "rateLimit.max",
    parse: integer(0, 100_000_000),
  },
  rateLimitWindowMs: {
    flag: "--rate-limit-window-ms",
    flagKey: "rateLimitWindowMs",
    env: "SIGNALBOX_RATE_LIMIT_WINDOW_MS",
    fileKey: "rateLimit.windowMs",
    parse: integer(1000, 86_400_000),
  },
  rateLimitExemptLoopback: {
    flag: "--rate-limit-loopback",
    flagKey: "rateLimitLoopback",
    env: "SIGNALBOX_RATE_LIMIT_LOOPBACK",
    fileKey: "rateLimit.exemptLoopback",
    parse: flag,
  },
  rateLimitGateways: {
    flag: "--rate-limit-gateways",
    flagKey: "rateLimitGateways",
    env: "SIGNALBOX_RATE_LIMIT_GATEWAYS",
    fileKey: "rateLimit.gateways",
    parse: flag,
  },
  minimalBatch: {
    flag: "--minimal-batch",
    flagKey: "minimalBatch",
    env: "SIGNALBOX_MINIMAL_BATCH",
    fileKey: "authzen.minimalBatch",
    parse: flag,
  },
  logLevel: {
    flag: "--log-level",
    flagKey: "logLevel",
    env: "SIGNALBOX_LOG_LEVEL",
    fileKey: "logLevel",
    parse: oneOf<LogLevel>(LOG_LEVELS),
  },
  logRequests: {
    flag: "--log-requests",
    flagKey: "logRequests",
    env: "SIGNALBOX_LOG_REQUESTS",
    fileKey: "logRequests",
    parse: flag,
  },
  trustProxy: {
    flag: "--trust-proxy",
    flagKey: "trustProxy",
    env: "SIGNALBOX_TRUST_PROXY",
    fileKey: "trustProxy",
    parse: flag,
  },
  enrichment: {
    flag: "--enrichment",
    flagKey: "enrichment",
    env: "SIGNALBOX_ENRICHMENT",
    fileKey: "enrichment",
    parse: oneOf(["databases", "pep"] as const),
  },
  hostingAsnsFile: {
    flag: "--hosting-asns",
    flagKey: "hostingAsns",
    env: "SIGNALBOX_HOSTING_ASNS",
    fileKey: "lists.hostingAsns",
    parse: listPath,
    fileRelativePath: true,
  },
  anonymizersFile: {
    flag: "--anonymizers",
    flagKey: "anonymizers",
    env: "SIGNALBOX_ANONYMIZERS",
    fileKey: "lists.anonymizers",
    parse: listPath,
    fileRelativePath: true,
  },
  reputationDir: {
    flag: "--reputation-dir",
    flagKey: "reputationDir",
    env: "SIGNALBOX_REPUTATION_DIR",
    fileKey: "lists.reputationDir",
    parse: listPath,
    fileRelativePath: true,
  },
} satisfies Record<string, OptionSpec<unknown>>;

/** The mask key is a secret: an environment variable or a file, never a flag or a config-file value. */
const MASK_KEY_ENV = "SIGNALBOX_AUDIT_MASK_KEY";
const MIN_MASK_KEY_LENGTH = 16;

type Options = typeof OPTIONS;
type ValueOf<K extends keyof Options> = Options[K] extends OptionSpec<infer T> ? T : never;

/** Config-file keys Signalbox knows; anything else is reported so a typo does not silently do nothing. */
const FILE_KEYS: ReadonlySet<string> = new Set(Object.values(OPTIONS).map((o) => o.fileKey));

/** Sections handed whole to the module that owns them (it checks them and names their keys). */
const FILE_SECTIONS: ReadonlySet<string> = new Set(["gateway"]);

function readConfigFile(path: string, read: (path: string) => string): Record<string, unknown> {
  let source: string;
  try {
    source = read(path);
  } catch (err) {
    throw new SignalboxError("CONFIG_INVALID", `--config: cannot read "${path}": ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = path.endsWith(".json") ? JSON.parse(source) : parseYaml(source);
  } catch (err) {
    throw new SignalboxError(
      "CONFIG_INVALID",
      `--config: "${path}" is not valid YAML or JSON: ${(err as Error).message}`,
    );
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new SignalboxError("CONFIG_INVALID", `--config: "${path}" does not hold a mapping of options`);
  }
  return data as Record<string, unknown>;
}

/** Flattens `{rateLimit: {max: 1}}` into `rateLimit.max` keys (one level, which is all the file has). */
function flatten(data: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(data)) {
    if (FILE_SECTIONS.has(k)) {
      out.set(k, v);
    } else if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) out.set(`${k}.${k2}`, v2);
    } else {
      out.set(k, v);
    }
  }
  return out;
}

/**
 * Resolves the configuration: flag > environment > config file > default. Every value is checked;
 * all problems are reported at once in one `CONFIG_INVALID` error, each naming its flag, variable or key.
 */
export function loadConfig(sources: ConfigSources = {}): ServeConfig {
  const flags = sources.flags ?? {};
  const env = sources.env ?? {};
  const problems: Problem[] = [];

  const configPath = typeof flags.config === "string" ? flags.config : undefined;
  const file = configPath
    ? flatten(readConfigFile(configPath, sources.readFile ?? ((p) => readFileSync(p, "utf8"))))
    : new Map<string, unknown>();
  const fileDir = configPath ? dirname(resolve(configPath)) : "";
  for (const key of file.keys()) {
    if (!FILE_KEYS.has(key) && !FILE_SECTIONS.has(key))
      problems.push({ path: key, message: `--config: unknown key "${key}"` });
  }

  /** The value and where it came from (the flag, variable or key to name in an error). */
  function pickWhere<K extends keyof Options>(name: K): { value: ValueOf<K>; where: string } | undefined {
    const spec: OptionSpec<unknown> = OPTIONS[name];
    const layers: [unknown, string][] = [
      [flags[spec.flagKey], spec.flag],
      [env[spec.env] === "" ? undefined : env[spec.env], spec.env],
      [file.get(spec.fileKey), `--config key "${spec.fileKey}"`],
    ];
    for (const [i, [raw, where]] of layers.entries()) {
      if (raw === undefined) continue;
      const parsed = spec.parse(raw);
      if (!parsed.ok) {
        problems.push({ path: where, message: `${where}: ${parsed.message}` });
        return undefined;
      }
      const relative = spec.fileRelativePath && i === 2 && typeof parsed.value === "string";
      const value = relative ? resolve(fileDir, parsed.value as string) : parsed.value;
      return { value: value as ValueOf<K>, where };
    }
    return undefined;
  }

  function pick<K extends keyof Options>(name: K): ValueOf<K> | undefined {
    return pickWhere(name)?.value;
  }

  /** A list path given explicitly must exist and be of the right kind; the shipped defaults always are. */
  function pickList(name: "hostingAsnsFile" | "anonymizersFile" | "reputationDir"): string | false | undefined {
    const picked = pickWhere(name);
    if (picked === undefined || picked.value === false) return picked?.value;
    const wantDir = name === "reputationDir";
    let kind: "file" | "directory" | undefined;
    try {
      const st = statSync(picked.value);
      kind = st.isDirectory() ? "directory" : st.isFile() ? "file" : undefined;
    } catch {
      kind = undefined;
    }
    if (kind !== (wantDir ? "directory" : "file")) {
      const message = `${picked.where}: "${picked.value}" is not a readable ${wantDir ? "directory" : "file"}`;
      problems.push({ path: picked.where, message });
      return undefined;
    }
    return picked.value;
  }

  /** The mask key comes from `SIGNALBOX_AUDIT_MASK_KEY` or a key file, never a flag (flags show in `ps`). */
  function pickMaskKey(): Secret | undefined {
    const fromEnv = env[MASK_KEY_ENV];
    const keyFile = pickWhere("auditMaskKeyFile");
    if (fromEnv !== undefined && fromEnv !== "" && keyFile !== undefined) {
      const message = `${MASK_KEY_ENV} and ${keyFile.where} are both set; use one`;
      problems.push({ path: MASK_KEY_ENV, message });
      return undefined;
    }
    let key: string;
    let where: string;
    if (fromEnv !== undefined && fromEnv !== "") {
      key = fromEnv.trim();
      where = MASK_KEY_ENV;
    } else if (keyFile !== undefined) {
      where = keyFile.where;
      try {
        key = (sources.readFile ?? ((p) => readFileSync(p, "utf8")))(keyFile.value).trim();
      } catch (err) {
        const message = `${where}: cannot read "${keyFile.value}": ${(err as Error).message}`;
        problems.push({ path: where, message });
        return undefined;
      }
    } else {
      return undefined;
    }
    if (key.length < MIN_MASK_KEY_LENGTH) {
      // the length is safe to say; the key itself never is
      const message = `${where}: the mask key has ${key.length} characters; use at least ${MIN_MASK_KEY_LENGTH}`;
      problems.push({ path: where, message });
      return undefined;
    }
    return new Secret(key);
  }

  /** Reads the signing key now, so a bad key stops startup with the flag named rather than later in the trail. */
  function pickCheckpointKeyFile(): string | undefined {
    const picked = pickWhere("auditCheckpointKeyFile");
    if (picked === undefined) return undefined;
    try {
      loadCheckpointSigner(picked.value);
    } catch (err) {
      problems.push({ path: picked.where, message: `${picked.where}: ${(err as Error).message}` });
      return undefined;
    }
    return picked.value;
  }

  const d = DEFAULT_CONFIG;
  const config: ServeConfig = {
    port: pick("port") ?? d.port,
    host: pick("host") ?? d.host,
    dataDir: pick("dataDir") ?? d.dataDir,
    policy: pick("policy") ?? d.policy,
    shadowPolicy: pick("shadowPolicy") ?? d.shadowPolicy,
    state: pick("state") ?? d.state,
    stateTimeoutMs: pick("stateTimeoutMs") ?? d.stateTimeoutMs,
    drainMs: pick("drainMs") ?? d.drainMs,
    audit: pick("audit") ?? d.audit,
    auditTrail: {
      durability: pick("auditDurability") ?? d.auditTrail.durability,
      writerId: pick("auditWriterId") ?? d.auditTrail.writerId,
      mask: pick("auditMask") ?? d.auditTrail.mask,
      maskKey: pickMaskKey() ?? d.auditTrail.maskKey,
      checkpointKeyFile: pickCheckpointKeyFile() ?? d.auditTrail.checkpointKeyFile,
      checkpointEvery: pick("auditCheckpointEvery") ?? d.auditTrail.checkpointEvery,
      checkpointIntervalMs: pick("auditCheckpointIntervalMs") ?? d.auditTrail.checkpointIntervalMs,
    },
    apiKeys: pick("apiKeys") ?? d.apiKeys,
    grpcPort: pick("grpcPort") ?? d.grpcPort,
    eventTime: pick("eventTime") ?? d.eventTime,
    bodyLimitBytes: pick("bodyLimitBytes") ?? d.bodyLimitBytes,
    jsonDepthLimit: pick("jsonDepthLimit") ?? d.jsonDepthLimit,
    rateLimit: {
      max: pick("rateLimitMax") ?? d.rateLimit.max,
      windowMs: pick("rateLimitWindowMs") ?? d.rateLimit.windowMs,
      exemptLoopback: pick("rateLimitExemptLoopback") ?? d.rateLimit.exemptLoopback,
      gateways: pick("rateLimitGateways") ?? d.rateLimit.gateways,
    },
    minimalBatch: pick("minimalBatch") ?? d.minimalBatch,
    logLevel: pick("logLevel") ?? d.logLevel,
    logRequests: pick("logRequests") ?? d.logRequests,
    trustProxy: pick("trustProxy") ?? d.trustProxy,
    enrichment: pick("enrichment") ?? d.enrichment,
    lists: {
      hostingAsnsFile: pickList("hostingAsnsFile") ?? d.lists.hostingAsnsFile,
      anonymizersFile: pickList("anonymizersFile") ?? d.lists.anonymizersFile,
      reputationDir: pickList("reputationDir") ?? d.lists.reputationDir,
    },
    gateway: file.get("gateway"),
    reloadDebounceMs: d.reloadDebounceMs,
  };
  if (problems.length > 0) {
    const first = problems[0]?.message ?? "invalid configuration";
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    throw new SignalboxError("CONFIG_INVALID", `${first}${more}`, { problems });
  }
  return config;
}

/** Every option with its flag, variable and config-file key, for `--help` and the docs. */
export const CONFIG_OPTIONS: readonly { flag: string; env: string; fileKey: string }[] = Object.values(OPTIONS).map(
  ({ flag: f, env: e, fileKey }) => ({ flag: f, env: e, fileKey }),
);
