/** Resolves the service configuration from flags, environment and a config file (in that order of precedence). */

import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { Problem } from "../errors/signalbox-error.js";
import { SignalboxError } from "../errors/signalbox-error.js";
import { parseApiKey, splitKeyList } from "./api-keys.js";
import { type ApiKeyConfig, DEFAULT_CONFIG, LOG_LEVELS, type LogLevel, type ServeConfig } from "./serve-config.js";

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
  state: { flag: "--state", flagKey: "state", env: "SIGNALBOX_STATE", fileKey: "state", parse: text },
  audit: { flag: "--audit", flagKey: "audit", env: "SIGNALBOX_AUDIT", fileKey: "audit", parse: text },
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
} satisfies Record<string, OptionSpec<unknown>>;

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

  function pick<K extends keyof Options>(name: K): ValueOf<K> | undefined {
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
      const value = spec.fileRelativePath && i === 2 ? resolve(fileDir, parsed.value as string) : parsed.value;
      return value as ValueOf<K>;
    }
    return undefined;
  }

  const d = DEFAULT_CONFIG;
  const config: ServeConfig = {
    port: pick("port") ?? d.port,
    host: pick("host") ?? d.host,
    dataDir: pick("dataDir") ?? d.dataDir,
    policy: pick("policy") ?? d.policy,
    state: pick("state") ?? d.state,
    audit: pick("audit") ?? d.audit,
    apiKeys: pick("apiKeys") ?? d.apiKeys,
    grpcPort: pick("grpcPort") ?? d.grpcPort,
    eventTime: pick("eventTime") ?? d.eventTime,
    bodyLimitBytes: pick("bodyLimitBytes") ?? d.bodyLimitBytes,
    jsonDepthLimit: pick("jsonDepthLimit") ?? d.jsonDepthLimit,
    rateLimit: {
      max: pick("rateLimitMax") ?? d.rateLimit.max,
      windowMs: pick("rateLimitWindowMs") ?? d.rateLimit.windowMs,
      exemptLoopback: pick("rateLimitExemptLoopback") ?? d.rateLimit.exemptLoopback,
    },
    minimalBatch: pick("minimalBatch") ?? d.minimalBatch,
    logLevel: pick("logLevel") ?? d.logLevel,
    trustProxy: pick("trustProxy") ?? d.trustProxy,
    enrichment: pick("enrichment") ?? d.enrichment,
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
