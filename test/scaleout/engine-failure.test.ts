/**
 * How one engine on Redis state behaves when Redis is slow or gone: each segment's `on_error` path,
 * a `state_unavailable` finding, an observer event per failure, and recovery without a restart.
 */

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/create-engine.js";
import type { Engine } from "../../src/engine/engine.js";
import type { Decision } from "../../src/model/decision.js";
import { DEFAULT_POLICY_FILE, loadPolicy } from "../../src/policy/load.js";
import { openStateStore } from "../../src/state/open-state.js";
import { RedisProcess, redisServerFor } from "./redis-process.js";
import { at, SEGMENT_CASES, tokenUse } from "./requests.js";

const installed = await redisServerFor("the engine failure tests");

const RUN = randomUUID().slice(0, 8);
// Far below the store's own command timeout, so a frozen Redis is cut off by the engine, not by ioredis.
const STATE_TIMEOUT_MS = 300;
const STORE_TIMEOUT_MS = 5000;

function stateFinding(d: Decision) {
  return d.findings.find((f) => f.code === "state_unavailable");
}

describe.skipIf(!installed)("engine on Redis state when Redis fails", () => {
  let redis: RedisProcess;
  let engine: Engine;
  const stateErrors: { kind: "timeout" | "error"; message: string }[] = [];
  let minute = 0;
  const nextTime = () => at(++minute);

  beforeAll(async () => {
    redis = await RedisProcess.start();
    const state = await openStateStore(`${redis.url}?prefix=sbfail-${RUN}:&timeout_ms=${STORE_TIMEOUT_MS}`, ".");
    engine = createEngine({
      policy: await loadPolicy(DEFAULT_POLICY_FILE),
      state,
      eventTime: "request",
      stateTimeoutMs: STATE_TIMEOUT_MS,
      observer: { onStateError: (kind, message) => stateErrors.push({ kind, message }) },
    });
  });

  afterAll(async () => {
    await engine?.close();
    await redis?.stop();
  });

  it("reads state for every segment while Redis is healthy", async () => {
    for (const c of SEGMENT_CASES) {
      const d = await engine.decide(c.request(`ok-${RUN}`, nextTime()));
      expect(d.segment).toBe(c.segment);
      expect(stateFinding(d), c.segment).toBeUndefined();
      expect(d.errors).toEqual([]);
    }
    expect(stateErrors).toEqual([]);
  });

  it("gives up on a frozen Redis after the timeout and applies each segment's on_error path", async () => {
    redis.freeze();
    let thawed = false;
    try {
      // Every decision below must resolve while Redis is still frozen: waiting for Redis would hang here.
      const decisions = await Promise.all(
        SEGMENT_CASES.map((c) => engine.decide(c.request(`slow-${RUN}`, nextTime()))),
      );
      expect(thawed).toBe(false);
      for (const [i, c] of SEGMENT_CASES.entries()) {
        const d = decisions[i] as Decision;
        expect(d.segment).toBe(c.segment);
        expect(d.controlPath, c.segment).toBe(c.onError);
        expect(
          d.matched.some((m) => m.kind === "on_error" && m.path === c.onError),
          c.segment,
        ).toBe(true);
        expect(stateFinding(d)?.error?.message).toBe(`state read took longer than ${STATE_TIMEOUT_MS} ms`);
        expect(d.reasons.map((r) => r.code)).toContain("state_unavailable");
      }
      const readTimeouts = stateErrors.filter((e) => e.kind === "timeout" && e.message.startsWith("state read"));
      expect(readTimeouts).toHaveLength(SEGMENT_CASES.length);
    } finally {
      thawed = true;
      redis.thaw();
    }
  });

  it("fails fast with the on_error paths while Redis is down, without queueing", async () => {
    stateErrors.length = 0;
    await redis.stop();
    // A burst far larger than any connection pool: every call must settle, none may wait on Redis.
    const burst = Array.from({ length: 300 }, (_, i) => {
      const c = SEGMENT_CASES[i % SEGMENT_CASES.length];
      if (!c) throw new Error("no segment case");
      return { c, decision: engine.decide(c.request(`down-${i}-${RUN}`, nextTime())) };
    });
    const settled = await Promise.allSettled(burst.map((b) => b.decision));
    for (const [i, s] of settled.entries()) {
      const c = burst[i]?.c;
      expect(s.status).toBe("fulfilled");
      if (s.status !== "fulfilled" || !c) continue;
      expect(s.value.controlPath, c.segment).toBe(c.onError);
      expect(stateFinding(s.value)?.error?.code).toBe("STATE_UNAVAILABLE");
    }
    // One read per decision failed; writes are skipped when nothing was read, or fail the same way.
    expect(stateErrors.filter((e) => e.kind === "error").length).toBeGreaterThanOrEqual(burst.length);
    expect(stateErrors.every((e) => /redis|state/i.test(e.message))).toBe(true);
  });

  it("recovers by itself once Redis is back, and shares state again", async () => {
    await redis.start();
    const probe = SEGMENT_CASES[0];
    if (!probe) throw new Error("no segment case");
    let recovered: Decision | undefined;
    // ioredis reconnects with a backoff of at most 2 s; give it many chances before declaring failure
    for (let attempt = 0; attempt < 100 && !recovered; attempt++) {
      const d = await engine.decide(probe.request(`back-${RUN}`, nextTime()));
      if (!stateFinding(d)) recovered = d;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(recovered?.errors).toEqual([]);
    // The store really works again: a token claim made now is seen by the next use from another device.
    const jti = `jti-back-${RUN}`;
    const first = await engine.decide(tokenUse(`carol-${RUN}`, jti, "laptop-1", "198.51.100.4", nextTime()));
    const replay = await engine.decide(tokenUse(`carol-${RUN}`, jti, "phone-9", "198.51.100.4", nextTime()));
    expect(first.findings.map((f) => f.code)).not.toContain("token_replay");
    expect(replay.findings.find((f) => f.code === "token_replay")?.severity).toBe("critical");
    expect(replay.controlPath).toBe("quarantine");
  });
});
