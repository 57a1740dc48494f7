import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryAuditTrail } from "../../src/audit/memory.js";
import { loadConfig } from "../../src/config/load-config.js";
import { PEP_ONLY_ENRICHER } from "../../src/enrich/enrichment.js";
import { loadPolicy } from "../../src/policy/load.js";
import { engineOptionsOf } from "../../src/runtime/engine-options.js";
import { openRuntime } from "../../src/runtime/open-runtime.js";
import { MemoryStateStore } from "../../src/state/memory.js";

const REDIS_HOST = "127.0.0.1";
const REDIS_PORT = 6379;
const PREFIX = `sbtest-rt-${randomUUID().slice(0, 8)}:`;

const LOGIN = {
  subject: { type: "user", id: "carol@example.com" },
  action: { name: "login" },
  resource: { type: "application", id: "portal" },
  context: { ip: "203.0.113.7", authn: { result: "success", method: "password" } },
};

async function redisIsUp(): Promise<boolean> {
  const probe = new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: true, retryStrategy: () => null });
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

let redisUp = false;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "signalbox-runtime-state-"));
  redisUp = await redisIsUp();
  if (!redisUp) {
    if (process.env.CI === "true")
      throw new Error("redis is not reachable on 127.0.0.1:6379 and CI=true: refusing to skip");
    console.warn("SKIPPING the Redis state-option tests: no Redis on 127.0.0.1:6379");
  }
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (redisUp) {
    const redis = new Redis({ host: REDIS_HOST, port: REDIS_PORT });
    const keys = await redis.keys(`${PREFIX}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
});

function configFor(state: string, extra: Record<string, string> = {}) {
  return loadConfig({ flags: { state, dataDir: dir, audit: "memory:", enrichment: "pep", ...extra } });
}

describe("--state and --state-timeout-ms", () => {
  it("hand the configured timeout to the engine (50 ms unless set)", async () => {
    const parts = {
      policy: await loadPolicy(join(import.meta.dirname, "../../examples/authzen-certification/policy.yaml")),
      shadowPolicy: undefined,
      state: new MemoryStateStore(),
      audit: new MemoryAuditTrail(),
      enricher: PEP_ONLY_ENRICHER,
      observer: {},
      engineVersion: undefined,
    };
    expect(engineOptionsOf(loadConfig(), parts).stateTimeoutMs).toBe(50);
    expect(engineOptionsOf(loadConfig({ env: { SIGNALBOX_STATE_TIMEOUT_MS: "80" } }), parts).stateTimeoutMs).toBe(80);
  });

  it("open every in-process store the URL can name", async () => {
    const cases: [string, string, string | undefined][] = [
      ["memory:", "memory", undefined],
      ["sqlite:", "sqlite", join(dir, "state.db")],
      ["sqlite:relative.db", "sqlite", join(dir, "relative.db")],
      [`sqlite://${join(dir, "absolute-strict.db")}?strict=true`, "sqlite", join(dir, "absolute-strict.db")],
    ];
    for (const [url, kind, file] of cases) {
      const runtime = await openRuntime(configFor(url));
      try {
        expect(runtime.engine.state.kind).toBe(kind);
        expect((await runtime.engine.decide(LOGIN)).controlPath).toEqual(expect.any(String));
        if (file) expect(existsSync(file)).toBe(true);
      } finally {
        await runtime.close();
      }
    }
  });

  it("open Redis with the URL's key prefix and command timeout", async (ctx) => {
    if (!redisUp) return ctx.skip();
    const runtime = await openRuntime(
      configFor(`redis://${REDIS_HOST}:${REDIS_PORT}/0?prefix=${PREFIX}&timeout_ms=2000`),
    );
    try {
      expect(runtime.engine.state.kind).toBe("redis");
      await runtime.engine.decide(LOGIN);
    } finally {
      await runtime.close();
    }
    const redis = new Redis({ host: REDIS_HOST, port: REDIS_PORT });
    try {
      expect((await redis.keys(`${PREFIX}*`)).length).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it("give up on a state store that stops answering after the configured timeout", async (ctx) => {
    if (!redisUp) return ctx.skip();
    // a relay to the real Redis that can stop forwarding, so the store hangs mid-decision
    let frozen = false;
    const clients = new Set<Socket>();
    const relay: Server = createServer((client) => {
      clients.add(client);
      const upstream = connect(REDIS_PORT, REDIS_HOST);
      client.on("data", (chunk) => {
        if (!frozen) upstream.write(chunk);
      });
      upstream.on("data", (chunk) => client.write(chunk));
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const address = relay.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    const errors: string[] = [];
    const runtime = await openRuntime(
      configFor(`redis://127.0.0.1:${port}/0?prefix=${PREFIX}&timeout_ms=5000`, { stateTimeoutMs: "25" }),
      { observer: { onStateError: (kind, message) => errors.push(`${kind}: ${message}`) } },
    );
    try {
      frozen = true;
      const decision = await runtime.engine.decide(LOGIN);
      expect(decision.errors.map((e) => e.message).join(" ")).toContain("longer than 25 ms");
      expect(errors).toContain("timeout: state read took longer than 25 ms");
    } finally {
      for (const c of clients) c.destroy();
      await runtime.close().catch(() => undefined);
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });
});
