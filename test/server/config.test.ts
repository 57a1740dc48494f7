import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { DEFAULT_CONFIG } from "../../src/config/serve-config.js";
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
