/**
 * Two decision nodes on a Redis of their own, under steady traffic: Redis freezes, then dies, then
 * comes back. Decisions never stop, follow each segment's `on_error` path while state is out of
 * reach, are counted in `/metrics`, and turn normal again without restarting the nodes.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DecisionNode, eventually, type NativeDecision } from "./decision-node.js";
import { RedisProcess, redisServerFor } from "./redis-process.js";
import { SEGMENT_CASES } from "./requests.js";
import { type Sent as SentRequest, Traffic } from "./traffic.js";

const installed = await redisServerFor("the fault tests");

const RUN = randomUUID().slice(0, 8);

type Phase = "healthy" | "frozen" | "down" | "restarting";
type Sent = SentRequest<Phase>;

const stateDown = (d: NativeDecision | undefined) => d?.findings.some((f) => f.code === "state_unavailable") === true;

describe.skipIf(!installed)("decision nodes when their Redis fails mid-traffic", () => {
  const dir = mkdtempSync(join(tmpdir(), "signalbox-fault-"));
  let redis: RedisProcess;
  let nodes: DecisionNode[] = [];
  const pids: (number | undefined)[] = [];
  let phase: Phase = "healthy";
  // Four callers, each sending one decision after another, round-robin over nodes and segments.
  const traffic = new Traffic<Phase>(
    () => nodes,
    RUN,
    () => phase,
  );
  const sent = traffic.sent;

  /** Waits until at least `n` decisions sent in `p` have come back. */
  async function collected(p: Phase, n: number): Promise<Sent[]> {
    const got = await eventually(async () => {
      const these = sent.filter((s) => s.tag === p);
      return these.length >= n ? these : undefined;
    }, 300);
    return got ?? sent.filter((s) => s.tag === p);
  }

  beforeAll(async () => {
    redis = await RedisProcess.start();
    const common = ["--state", `${redis.url}?prefix=sbfault-${RUN}:`, "--audit", "memory:"];
    const more = ["--event-time", "request", "--enrichment", "pep"];
    // Well above a healthy reply on a busy CI machine, far below the store's own 1 s command timeout.
    const env = { SIGNALBOX_STATE_TIMEOUT_MS: "300" };
    nodes = [
      await DecisionNode.start("a", [...common, ...more, "--data-dir", join(dir, "a")], env),
      await DecisionNode.start("b", [...common, ...more, "--data-dir", join(dir, "b")], env),
    ];
    pids.push(...nodes.map((n) => n.pid));
    traffic.start();
  });

  afterAll(async () => {
    await traffic.stop();
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("decides normally while Redis is healthy", async () => {
    const healthy = await collected("healthy", 40);
    expect(healthy.filter((s) => s.failure)).toEqual([]);
    expect(healthy.filter((s) => stateDown(s.decision))).toEqual([]);
    for (const node of nodes) expect((await node.get("/readyz")).status).toBe(200);
  });

  it("keeps deciding on each segment's on_error path while Redis is frozen, and counts timeouts", async () => {
    redis.freeze();
    phase = "frozen";
    try {
      const frozen = await collected("frozen", 28);
      expect(frozen.filter((s) => s.failure)).toEqual([]);
      for (const s of frozen) {
        expect(s.decision?.segment).toBe(s.segment);
        expect(s.decision?.control_path, s.segment).toBe(s.onError);
        expect(s.decision?.findings.find((f) => f.code === "state_unavailable")?.error?.code).toBe("STATE_UNAVAILABLE");
      }
      for (const node of nodes) {
        expect(await node.metric('signalbox_state_errors_total{kind="timeout"}')).toBeGreaterThan(0);
        expect((await node.get("/readyz")).status).toBe(503);
      }
    } finally {
      phase = "restarting";
      redis.thaw();
    }
  });

  it("keeps deciding on the on_error paths while Redis is down, and reports not ready", async () => {
    await redis.stop();
    phase = "down";
    const down = await collected("down", 56);
    expect(down.filter((s) => s.failure)).toEqual([]);
    const bySegment = new Map<string, Set<string>>();
    for (const s of down) {
      expect(stateDown(s.decision), s.segment).toBe(true);
      const paths = bySegment.get(s.segment) ?? new Set<string>();
      paths.add(s.decision?.control_path ?? "none");
      bySegment.set(s.segment, paths);
    }
    // every segment was exercised, each on exactly its own on_error path
    expect(Object.fromEntries([...bySegment].map(([k, v]) => [k, [...v]]))).toEqual(
      Object.fromEntries(SEGMENT_CASES.map((c) => [c.segment, [c.onError]])),
    );
    for (const node of nodes) {
      expect(await node.metric('signalbox_state_errors_total{kind="error"}')).toBeGreaterThan(0);
      const ready = await node.get("/readyz");
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.text)).toMatchObject({ status: "not_ready", state: "unreachable" });
      expect((await node.get("/healthz")).status).toBe(200);
    }
  });

  it("returns to normal decisions once Redis is back, without restarting the nodes", async () => {
    phase = "restarting";
    await redis.start();
    for (const node of nodes) {
      const ready = await eventually(async () => ((await node.get("/readyz")).status === 200 ? true : undefined), 150);
      expect(ready, `node ${node.name} never became ready again: ${node.log}`).toBe(true);
    }
    phase = "healthy";
    const mark = sent.length;
    const after = await eventually(async () => {
      const these = sent.slice(mark).filter((s) => s.tag === "healthy");
      return these.length >= 40 ? these : undefined;
    }, 300);
    expect(after?.filter((s) => s.failure)).toEqual([]);
    expect(after?.filter((s) => stateDown(s.decision))).toEqual([]);
    expect(nodes.map((n) => n.pid)).toEqual(pids);
    expect(nodes.every((n) => n.running)).toBe(true);
  });

  it("never failed a request and never lost a node", async () => {
    await traffic.stop();
    expect(sent.length).toBeGreaterThan(160);
    expect(sent.filter((s) => s.failure).map((s) => s.failure)).toEqual([]);
    expect(nodes.every((n) => n.running)).toBe(true);
  });
});
