import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { DEFAULT_CONFIG } from "../../src/config/serve-config.js";
import { addRuntimeFlags } from "../../src/config/serve-flags.js";
import { SHIPPED_LISTS } from "../../src/enrich/database-enricher.js";
import { SignalboxError } from "../../src/errors/signalbox-error.js";

function configError(fn: () => unknown): SignalboxError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SignalboxError) return err;
    throw err;
  }
  throw new Error("expected a CONFIG_INVALID error");
}

describe("loadConfig", () => {
  it("uses the contract's defaults", () => {
    const c = loadConfig();
    expect(c).toEqual(DEFAULT_CONFIG);
    expect(c.port).toBe(8700);
    expect(c.host).toBe("127.0.0.1");
    expect(c.dataDir).toBe("./signalbox-data");
    expect(c.eventTime).toBe("server");
    expect(c.apiKeys).toEqual([]);
    expect(c.grpcPort).toBeUndefined();
  });

  it("takes flag over env over config file over default", () => {
    const files: Record<string, string> = {
      "/etc/signalbox/sb.yaml":
        "port: 9001\nhost: 0.0.0.0\nlogLevel: debug\nrateLimit:\n  max: 10\nauthzen:\n  minimalBatch: true\npolicy: policies/p.yaml\n",
    };
    const readFile = (p: string) => {
      const f = files[p];
      if (f === undefined) throw new Error("ENOENT");
      return f;
    };
    const c = loadConfig({
      flags: { config: "/etc/signalbox/sb.yaml", port: "9003" },
      env: { SIGNALBOX_PORT: "9002", SIGNALBOX_HOST: "10.0.0.1" },
      readFile,
    });
    expect(c.port).toBe(9003);
    expect(c.host).toBe("10.0.0.1");
    expect(c.logLevel).toBe("debug");
    expect(c.rateLimit).toEqual({ ...DEFAULT_CONFIG.rateLimit, max: 10 });
    expect(c.minimalBatch).toBe(true);
    // paths in a config file are relative to the file
    expect(c.policy).toBe("/etc/signalbox/policies/p.yaml");
    const envOnly = loadConfig({
      flags: { config: "/etc/signalbox/sb.yaml" },
      env: { SIGNALBOX_PORT: "9002" },
      readFile,
    });
    expect(envOnly.port).toBe(9002);
  });

  it("reads a JSON config file too", () => {
    const c = loadConfig({
      flags: { config: "sb.json" },
      readFile: () => JSON.stringify({ eventTime: "request", grpcPort: 9191, apiKeys: ["admin:0123456789abcdef"] }),
    });
    expect(c.eventTime).toBe("request");
    expect(c.grpcPort).toBe(9191);
    expect(c.apiKeys).toEqual([{ right: "admin", key: "0123456789abcdef" }]);
  });

  it("parses API keys: plain keys decide, admin: keys also administer", () => {
    const c = loadConfig({
      env: { SIGNALBOX_API_KEYS: "plain-key-123456, admin:admin-key-123456 ,decide:dec-key-123456" },
    });
    expect(c.apiKeys).toEqual([
      { right: "decide", key: "plain-key-123456" },
      { right: "admin", key: "admin-key-123456" },
      { right: "decide", key: "dec-key-123456" },
    ]);
    const flags = loadConfig({ flags: { apiKey: ["one-key-123456", "admin:two-key-123456"] } });
    expect(flags.apiKeys.map((k) => k.right)).toEqual(["decide", "admin"]);
  });

  it("names the flag, variable or key of every bad value, and never echoes a key", () => {
    const err = configError(() =>
      loadConfig({
        flags: { port: "eighty", apiKey: ["admin:tiny7ab"] },
        env: { SIGNALBOX_EVENT_TIME: "client", SIGNALBOX_BODY_LIMIT: "lots", SIGNALBOX_GRPC_PORT: "70000" },
      }),
    );
    expect(err.code).toBe("CONFIG_INVALID");
    const messages = err.problems.map((p) => p.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^--port: "eighty" is not an integer between 0 and 65535$/),
        expect.stringMatching(/^--api-key: entry 1: an API key is shorter than 8 characters$/),
        expect.stringMatching(/^SIGNALBOX_EVENT_TIME: "client" is not one of server, request$/),
        expect.stringMatching(/^SIGNALBOX_BODY_LIMIT: /),
        expect.stringMatching(/^SIGNALBOX_GRPC_PORT: /),
      ]),
    );
    expect(err.message).toContain("--port");
    expect(JSON.stringify(err.problems)).not.toContain("tiny7ab");
  });

  it("reports unknown and ill-typed config-file keys by name", () => {
    const err = configError(() =>
      loadConfig({ flags: { config: "x.yaml" }, readFile: () => "prot: 1\nauthzen:\n  minimalBatch: perhaps\n" }),
    );
    const messages = err.problems.map((p) => p.message);
    expect(messages).toContain('--config: unknown key "prot"');
    expect(messages).toContain('--config key "authzen.minimalBatch": "perhaps" is not a boolean (true or false)');
  });

  it("fails on an unreadable or non-mapping config file", () => {
    expect(
      configError(() =>
        loadConfig({
          flags: { config: "missing.yaml" },
          readFile: () => {
            throw new Error("ENOENT");
          },
        }),
      ).message,
    ).toContain('"missing.yaml"');
    expect(
      configError(() => loadConfig({ flags: { config: "list.yaml" }, readFile: () => "- 1\n- 2\n" })).message,
    ).toContain("mapping");
  });

  it("accepts sizes with units", () => {
    expect(loadConfig({ env: { SIGNALBOX_BODY_LIMIT: "1mb" } }).bodyLimitBytes).toBe(1024 * 1024);
    expect(loadConfig({ flags: { bodyLimit: "64kb" } }).bodyLimitBytes).toBe(64 * 1024);
  });
});

describe("loadConfig: audit, lists, state, shadow policy and gateway rate limit", () => {
  let dir: string;
  let keyFile: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-config-"));
    keyFile = join(dir, "checkpoint.pem");
    const { privateKey } = generateKeyPairSync("ed25519");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));
    writeFileSync(join(dir, "mask.key"), "  0123456789abcdef0123456789abcdef\n");
    writeFileSync(join(dir, "asns.txt"), "AS64500\n");
    writeFileSync(join(dir, "anon.cidr"), "198.51.100.0/24\n");
    mkdirSync(join(dir, "reputation"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("defaults: normal durability, store-chosen writer and key, the shipped lists, 50 ms state timeout", () => {
    const c = loadConfig();
    expect(c.auditTrail).toEqual({
      durability: "normal",
      writerId: undefined,
      mask: undefined,
      maskKey: undefined,
      checkpointKeyFile: undefined,
      checkpointEvery: undefined,
      checkpointIntervalMs: undefined,
    });
    expect(c.lists).toEqual({
      hostingAsnsFile: SHIPPED_LISTS.hostingAsnsFile,
      anonymizersFile: SHIPPED_LISTS.anonymizersFile,
      reputationDir: SHIPPED_LISTS.reputationDir,
    });
    expect(c.stateTimeoutMs).toBe(50);
    expect(c.shadowPolicy).toBeUndefined();
    expect(c.rateLimit.gateways).toBe(false);
  });

  it("reads every audit option from flags, as the serve command hands them over", () => {
    const command = addRuntimeFlags(new Command().exitOverride());
    command.parse(
      [
        "--audit-durability",
        "strict",
        "--audit-writer-id",
        "pod-7.eu",
        "--audit-mask",
        "context.token, context.ip",
        "--audit-mask-key-file",
        join(dir, "mask.key"),
        "--audit-checkpoint-key-file",
        keyFile,
        "--audit-checkpoint-every",
        "500",
        "--audit-checkpoint-interval-ms",
        "60000",
        "--state-timeout-ms",
        "120",
        "--drain-ms",
        "5000",
        "--shadow-policy",
        "candidate.yaml",
        "--rate-limit-gateways",
        "true",
        "--hosting-asns",
        join(dir, "asns.txt"),
        "--anonymizers",
        "off",
        "--reputation-dir",
        join(dir, "reputation"),
      ],
      { from: "user" },
    );
    const c = loadConfig({ flags: command.opts() });
    expect(c.auditTrail.durability).toBe("strict");
    expect(c.auditTrail.writerId).toBe("pod-7.eu");
    expect(c.auditTrail.mask).toEqual(["context.token", "context.ip"]);
    expect(c.auditTrail.maskKey?.reveal()).toBe("0123456789abcdef0123456789abcdef");
    expect(c.auditTrail.checkpointKeyFile).toBe(keyFile);
    expect(c.auditTrail.checkpointEvery).toBe(500);
    expect(c.auditTrail.checkpointIntervalMs).toBe(60_000);
    expect(c.stateTimeoutMs).toBe(120);
    expect(c.drainMs).toBe(5000);
    expect(c.shadowPolicy).toBe("candidate.yaml");
    expect(c.rateLimit.gateways).toBe(true);
    expect(c.lists).toEqual({
      hostingAsnsFile: join(dir, "asns.txt"),
      anonymizersFile: false,
      reputationDir: join(dir, "reputation"),
    });
  });

  it("reads them from the environment and from a config file, with paths relative to the file", () => {
    const fromEnv = loadConfig({
      env: {
        SIGNALBOX_AUDIT_DURABILITY: "strict",
        SIGNALBOX_AUDIT_MASK: "none",
        SIGNALBOX_AUDIT_MASK_KEY: "an-env-mask-key-of-some-length",
        SIGNALBOX_STATE_TIMEOUT_MS: "75",
        SIGNALBOX_DRAIN_MS: "0",
        SIGNALBOX_SHADOW_POLICY: "/srv/next.yaml",
        SIGNALBOX_REPUTATION_DIR: "off",
      },
    });
    expect(fromEnv.auditTrail.durability).toBe("strict");
    expect(fromEnv.auditTrail.mask).toEqual([]);
    expect(fromEnv.auditTrail.maskKey?.reveal()).toBe("an-env-mask-key-of-some-length");
    expect(fromEnv.stateTimeoutMs).toBe(75);
    expect(fromEnv.drainMs).toBe(0);
    expect(fromEnv.shadowPolicy).toBe("/srv/next.yaml");
    expect(fromEnv.lists.reputationDir).toBe(false);

    const configFile = join(dir, "signalbox.yaml");
    writeFileSync(
      configFile,
      [
        "shadowPolicy: policies/next.yaml",
        "stateTimeoutMs: 30",
        "drainMs: 10000",
        "state: redis://127.0.0.1:6379/0?prefix=sb:&timeout_ms=200",
        "rateLimit:",
        "  gateways: true",
        "auditTrail:",
        "  writerId: node-a",
        "  mask: [context.session.id, subject.properties.email]",
        "  maskKeyFile: mask.key",
        "  checkpointKeyFile: checkpoint.pem",
        "  checkpointEvery: 10",
        "lists:",
        "  hostingAsns: asns.txt",
        "  anonymizers: anon.cidr",
        "  reputationDir: reputation",
        "",
      ].join("\n"),
    );
    const c = loadConfig({ flags: { config: configFile } });
    expect(c.shadowPolicy).toBe(join(dir, "policies/next.yaml"));
    expect(c.stateTimeoutMs).toBe(30);
    expect(c.drainMs).toBe(10_000);
    expect(c.state).toBe("redis://127.0.0.1:6379/0?prefix=sb:&timeout_ms=200");
    expect(c.rateLimit.gateways).toBe(true);
    expect(c.auditTrail.writerId).toBe("node-a");
    expect(c.auditTrail.mask).toEqual(["context.session.id", "subject.properties.email"]);
    expect(c.auditTrail.maskKey?.reveal()).toBe("0123456789abcdef0123456789abcdef");
    expect(c.auditTrail.checkpointKeyFile).toBe(keyFile);
    expect(c.auditTrail.checkpointEvery).toBe(10);
    expect(c.lists).toEqual({
      hostingAsnsFile: join(dir, "asns.txt"),
      anonymizersFile: join(dir, "anon.cidr"),
      reputationDir: join(dir, "reputation"),
    });
  });

  it("never shows the mask key when the configuration is printed or logged", () => {
    const c = loadConfig({ env: { SIGNALBOX_AUDIT_MASK_KEY: "super-secret-mask-key-42" } });
    expect(JSON.stringify(c)).not.toContain("super-secret-mask-key-42");
    expect(inspect(c, { depth: 10 })).not.toContain("super-secret-mask-key-42");
    expect(String(c.auditTrail.maskKey)).toBe("[redacted]");
  });

  it("accepts every state URL the state store opens", () => {
    for (const url of [
      "memory:",
      "sqlite:",
      "sqlite:state.db",
      "sqlite:///var/lib/signalbox/state.db",
      "sqlite:///var/lib/signalbox/state.db?strict=true",
      "redis://127.0.0.1:6379/0",
      "redis://user:pw@cache:6380/2?prefix=sb:&timeout_ms=1000",
      "rediss://cache.internal:6380/0",
    ]) {
      expect(loadConfig({ flags: { state: url } }).state).toBe(url);
    }
  });

  it("names the flag, variable or key of every bad audit, list, state or timeout value", () => {
    const err = configError(() =>
      loadConfig({
        flags: {
          auditDurability: "paranoid",
          auditWriterId: "has space",
          auditMask: "context..ip",
          auditCheckpointKeyFile: join(dir, "missing.pem"),
          hostingAsns: join(dir, "no-such-list.txt"),
          reputationDir: join(dir, "asns.txt"),
          state: "etcd://localhost:2379",
        },
        env: {
          SIGNALBOX_AUDIT_CHECKPOINT_EVERY: "0",
          SIGNALBOX_AUDIT_CHECKPOINT_INTERVAL_MS: "soon",
          SIGNALBOX_STATE_TIMEOUT_MS: "0",
          SIGNALBOX_RATE_LIMIT_GATEWAYS: "maybe",
          SIGNALBOX_DRAIN_MS: "-1",
        },
      }),
    );
    expect(err.code).toBe("CONFIG_INVALID");
    const messages = err.problems.map((p) => p.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        '--audit-durability: "paranoid" is not one of normal, strict',
        expect.stringMatching(/^--audit-writer-id: "has space" is not a writer id/),
        '--audit-mask: entry 1 ("context..ip") is not a dotted request path such as context.session.id',
        expect.stringMatching(/^--audit-checkpoint-key-file: cannot read checkpoint/),
        expect.stringMatching(/^--hosting-asns: ".*no-such-list\.txt" is not a readable file$/),
        expect.stringMatching(/^--reputation-dir: ".*asns\.txt" is not a readable directory$/),
        expect.stringMatching(/^--state: "etcd:\/\/localhost:2379" is not a state URL/),
        'SIGNALBOX_AUDIT_CHECKPOINT_EVERY: "0" is not an integer between 1 and 100000000',
        'SIGNALBOX_AUDIT_CHECKPOINT_INTERVAL_MS: "soon" is not an integer between 1000 and 86400000',
        'SIGNALBOX_STATE_TIMEOUT_MS: "0" is not an integer between 1 and 60000',
        'SIGNALBOX_RATE_LIMIT_GATEWAYS: "maybe" is not a boolean (true or false)',
        'SIGNALBOX_DRAIN_MS: "-1" is not an integer between 0 and 300000',
      ]),
    );
    expect(messages).toHaveLength(12);
  });

  it("checks state URL parameters and hides the password", () => {
    const strict = configError(() => loadConfig({ env: { SIGNALBOX_STATE: "sqlite:state.db?strict=perhaps" } }));
    expect(strict.problems.map((p) => p.message)).toEqual([
      'SIGNALBOX_STATE: strict "perhaps" in "sqlite:state.db?strict=perhaps" must be true or false',
    ]);
    const timeout = configError(() =>
      loadConfig({ flags: { state: "redis://u:hunter22@cache:6379/0?timeout_ms=-5" } }),
    );
    expect(timeout.message).toMatch(/^--state: timeout_ms "-5" in /);
    expect(JSON.stringify(timeout.problems)).not.toContain("hunter22");
  });

  it("takes a Redis Sentinel state URL and names what is wrong with a bad one", () => {
    const good = "redis+sentinel://:hunter22@s1:26379,s2/primary/1?prefix=sb:&timeout_ms=200";
    expect(loadConfig({ flags: { state: good } }).state).toBe(good);
    const noName = configError(() =>
      loadConfig({ env: { SIGNALBOX_STATE: "redis+sentinel://:hunter22@s1:26379?prefix=sb:" } }),
    );
    expect(noName.problems.map((p) => p.message)).toEqual([
      "SIGNALBOX_STATE: state URL 'redis+sentinel://:***@s1:26379?prefix=sb:' names no primary: give its Sentinel name after the hosts (…:26379/mymaster)",
    ]);
    const timeout = configError(() => loadConfig({ flags: { state: "rediss+sentinel://s1/primary?timeout_ms=0" } }));
    expect(timeout.message).toMatch(/^--state: timeout_ms "0" in /);
  });

  it("takes a Redis Cluster state URL and names what is wrong with a bad one", () => {
    const good = "redis+cluster://:hunter22@n1:7000,n2:7001?prefix=sb:&cluster_split=slot";
    expect(loadConfig({ flags: { state: good } }).state).toBe(good);
    const db = configError(() => loadConfig({ env: { SIGNALBOX_STATE: "redis+cluster://:hunter22@n1:7000/3" } }));
    expect(db.problems.map((p) => p.message)).toEqual([
      "SIGNALBOX_STATE: state URL 'redis+cluster://:***@n1:7000/3' has a path '/3': a Redis Cluster has only database 0 (leave the path out)",
    ]);
    const split = configError(() => loadConfig({ flags: { state: "redis+cluster://n1?cluster_split=shard" } }));
    expect(split.message).toMatch(/^--state: cluster_split "shard" in .* must be node or slot/);
  });

  it("rejects a short or doubly-given mask key without echoing it", () => {
    const short = configError(() => loadConfig({ env: { SIGNALBOX_AUDIT_MASK_KEY: "short-key" } }));
    expect(short.problems.map((p) => p.message)).toEqual([
      "SIGNALBOX_AUDIT_MASK_KEY: the mask key has 9 characters; use at least 16",
    ]);
    expect(JSON.stringify(short.problems)).not.toContain("short-key");
    const both = configError(() =>
      loadConfig({
        flags: { auditMaskKeyFile: join(dir, "mask.key") },
        env: { SIGNALBOX_AUDIT_MASK_KEY: "an-env-mask-key-of-some-length" },
      }),
    );
    expect(both.message).toBe("SIGNALBOX_AUDIT_MASK_KEY and --audit-mask-key-file are both set; use one");
    const unreadable = configError(() => loadConfig({ env: { SIGNALBOX_AUDIT_MASK_KEY_FILE: join(dir, "nope.key") } }));
    expect(unreadable.message).toMatch(/^SIGNALBOX_AUDIT_MASK_KEY_FILE: cannot read ".*nope\.key"/);
  });

  it("rejects unknown keys inside the new sections", () => {
    const err = configError(() =>
      loadConfig({ flags: { config: "x.yaml" }, readFile: () => "auditTrail:\n  maskKey: inline-secret-0001\n" }),
    );
    expect(err.problems.map((p) => p.message)).toContain('--config: unknown key "auditTrail.maskKey"');
  });
});
