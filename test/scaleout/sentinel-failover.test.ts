/**
 * Two `signalbox serve` nodes sharing state through Redis Sentinel, under steady traffic, while the
 * sentinel fails the primary over to its replica. No request fails, no node restarts, decisions are
 * normal again on the new primary within seconds, and the nodes still share one world there: a token
 * used on node A before the failover and replayed on node B after it is caught.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DecisionNode, type NativeDecision } from "./decision-node.js";
import { redisServerFor } from "./redis-process.js";
import { RedisSentinelSet, until } from "./redis-sentinel-set.js";
import { at, tokenUse } from "./requests.js";
import { Traffic } from "./traffic.js";

const installed = await redisServerFor("the Sentinel failover test");

const RUN = randomUUID().slice(0, 8);

const stateDown = (d: NativeDecision | undefined) => d?.findings.some((f) => f.code === "state_unavailable") === true;

describe.skipIf(!installed)("decision nodes on Redis Sentinel through a failover", () => {
  const dir = mkdtempSync(join(tmpdir(), "signalbox-sentinel-failover-"));
  let set: RedisSentinelSet;
  let nodes: DecisionNode[] = [];
  let failedOver = false;
  let minute = 0;
  // Three callers, each sending one decision after another, tagged with whether the failover had begun.
  const traffic = new Traffic<boolean>(
    () => nodes,
    RUN,
    () => failedOver,
    3,
  );
  const sent = traffic.sent;

  beforeAll(async () => {
    set = await RedisSentinelSet.start(dir);
    const args = (name: string) => [
      "--state",
      set.url(`prefix=sbfailover-${RUN}:&timeout_ms=500`),
      "--audit",
      "memory:",
      "--event-time",
      "request",
      "--enrichment",
      "pep",
      "--data-dir",
      join(dir, name),
    ];
    const env = { SIGNALBOX_STATE_TIMEOUT_MS: "300" };
    nodes = [await DecisionNode.start("a", args("a"), env), await DecisionNode.start("b", args("b"), env)];
    traffic.start();
  }, 90_000);

  afterAll(async () => {
    await traffic.stop();
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await set?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("fails over under traffic without a failed request, and is normal again on the new primary", async () => {
    const [a, b] = nodes as [DecisionNode, DecisionNode];
    const pids = nodes.map((n) => n.pid);
    await until("40 decisions before the failover", async () => (sent.length >= 40 ? true : undefined));
    expect(sent.filter((s) => s.failure)).toEqual([]);
    expect(sent.filter((s) => stateDown(s.decision))).toEqual([]);

    // A token's first use, on node A, before the failover; the replica has it before the switch.
    const jti = `tok-${RUN}`;
    const first = await a.decide(tokenUse(`erin-${RUN}`, jti, "laptop-1", "198.51.100.30", at(10_000 + ++minute)));
    expect(first.findings.map((f) => f.code)).not.toContain("token_replay");
    const replica = new Redis(set.replica.port, "127.0.0.1");
    await until("the replica to hold the token's claim", async () => {
      const keys = await replica.keys(`sbfailover-${RUN}:*${jti}*`);
      return keys.length > 0 ? true : undefined;
    });

    await set.failover();
    failedOver = true;

    // Both nodes reach the new primary on their own: readiness returns and their connections show there.
    for (const node of nodes) {
      await until(
        `node ${node.name} to be ready on the new primary`,
        async () =>
          (await node.get("/readyz")).status === 200 &&
          String(await replica.call("CLIENT", "LIST"))
            .split("\n")
            .filter((l) => l.includes("name=signalbox-state-")).length >= 2
            ? true
            : undefined,
        30_000,
      );
    }
    const mark = sent.length;
    const settled = await until("40 decisions after the nodes reached the new primary", async () => {
      const these = sent.slice(mark);
      return these.length >= 40 ? these : undefined;
    });
    expect(settled.filter((s) => stateDown(s.decision))).toEqual([]);
    expect(await replica.info("replication")).toMatch(/role:master/);

    // The replay, on node B after the failover, is caught from the claim node A made before it.
    const replay = await b.decide(tokenUse(`erin-${RUN}`, jti, "phone-9", "198.51.100.31", at(10_000 + ++minute)));
    expect(replay.findings.find((f) => f.code === "token_replay")?.evidence.first_holder).toEqual({
      device: "laptop-1",
    });
    expect(replay.control_path).toBe("quarantine");
    replica.disconnect();

    await traffic.stop();
    // Every request was answered; during the switch some took their segment's on_error path.
    expect(sent.filter((s) => s.failure).map((s) => s.failure)).toEqual([]);
    expect(sent.length).toBeGreaterThan(80);
    // Traffic ran on through the switch: at least the 40 settled decisions left after it began.
    expect(sent.filter((s) => s.tag).length).toBeGreaterThanOrEqual(40);
    expect(nodes.map((n) => n.pid)).toEqual(pids);
    expect(nodes.every((n) => n.running)).toBe(true);
  }, 120_000);
});
