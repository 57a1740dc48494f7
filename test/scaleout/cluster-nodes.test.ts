/**
 * Two `signalbox serve` processes sharing state in a Redis Cluster of the test's own (three masters,
 * `redis+cluster://`) and a PostgreSQL audit trail: a token replayed across nodes is caught, a
 * password spray split across nodes is seen whole, both audit chains verify, and the decisions' keys
 * are spread over every master of the cluster.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY_FILE } from "../../src/policy/load.js";
import { DecisionNode, type NativeDecision, runCli } from "./decision-node.js";
import { RedisClusterSet } from "./redis-cluster-set.js";
import { redisServerFor } from "./redis-process.js";
import { at, login, tokenUse } from "./requests.js";
import { dropPostgresSchema, postgresAnswers, requireServices, SHARED_POSTGRES } from "./shared-services.js";

const RUN = randomUUID().replaceAll("-", "").slice(0, 10);
const PREFIX = `sbcn-${RUN}:`;
const SCHEMA = `sb_cn_${RUN}`;
const AUDIT_URL = `${SHARED_POSTGRES}?schema=${SCHEMA}`;
// The cluster and the key prefix are this run's own, so identities need no run suffix: a key's hash tag
// (its slot) leaves the prefix out, and fixed names put the same keys on the same masters every run.
// redis-cli gives each master a third of the 16384 slots, and the names below hash into all three
// thirds (dana and victim3 into the first, victim1 and victim2 into the second, the token and the
// spraying address into the last), so no run can leave a master without keys by chance.

const SUITE = "the Redis Cluster multi-node tests";
const installed = await redisServerFor(SUITE);
const postgres = requireServices(
  SUITE,
  (await postgresAnswers(SHARED_POSTGRES)) ? [] : [`PostgreSQL at '${SHARED_POSTGRES}'`],
);
const canRun = installed && postgres;

describe.skipIf(!canRun)("two decision nodes sharing a Redis Cluster and a PostgreSQL audit trail", () => {
  // Made in beforeAll, not here: a skipped suite still runs this body, but never its hooks.
  let dir: string;
  let cluster: RedisClusterSet;
  let a: DecisionNode;
  let b: DecisionNode;
  let minute = 0;
  const nextTime = () => at(++minute);
  /** Every decision made, so a test can check that none of them fell back on state errors. */
  const decided: { node: string; decision: NativeDecision }[] = [];
  const decide = async (node: DecisionNode, request: unknown) => {
    const decision = await node.decide(request);
    decided.push({ node: node.name, decision });
    return decision;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-cluster-nodes-"));
    cluster = await RedisClusterSet.start(dir);
    const common = [
      "--policy",
      DEFAULT_POLICY_FILE,
      "--state",
      `${cluster.url}?prefix=${PREFIX}`,
      "--audit",
      AUDIT_URL,
      "--event-time",
      "request",
      "--enrichment",
      "pep",
    ];
    // A busy machine must not turn a slow cluster reply into an on_error decision: this test is about shared state.
    const env = { SIGNALBOX_STATE_TIMEOUT_MS: "2000" };
    // One node first, so the audit schema is created once; then the second joins.
    a = await DecisionNode.start("a", [...common, "--data-dir", join(dir, "node-a")], env);
    b = await DecisionNode.start("b", [...common, "--data-dir", join(dir, "node-b")], env);
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await Promise.allSettled([cluster?.stop(), dropPostgresSchema(SHARED_POSTGRES, SCHEMA)]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs two separate processes, both ready on the cluster", async () => {
    expect(a.pid).not.toBe(b.pid);
    expect(cluster.url).toMatch(/^redis\+cluster:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
    for (const node of [a, b]) {
      const ready = await node.get("/readyz");
      expect(JSON.parse(ready.text), node.log).toEqual({ status: "ready", state: "ok", audit: "ok" });
    }
  });

  it("catches a token used on node A and replayed from another device on node B", async () => {
    const jti = "tok-1";
    const first = await decide(a, tokenUse("dana", jti, "laptop-7", "198.51.100.20", nextTime()));
    expect(first.findings.map((f) => f.code)).not.toContain("token_replay");
    expect(first.errors, a.log).toEqual([]);

    const replay = await decide(b, tokenUse("dana", jti, "phone-3", "198.51.100.21", nextTime()));
    expect(replay.errors, b.log).toEqual([]);
    const finding = replay.findings.find((f) => f.code === "token_replay");
    expect(finding?.severity, b.log).toBe("critical");
    expect(finding?.evidence.differs).toEqual(["device"]);
    expect(finding?.evidence.first_holder).toEqual({ device: "laptop-7" });
    expect(replay.control_path).toBe("quarantine");
    expect(replay.matched.map((m) => m.id)).toContain("token-replay");
  });

  it("sees a password spray spread over both nodes, which neither node would see alone", async () => {
    const ip = "203.0.113.99";
    const decisions: { node: string; identities: unknown; spray: boolean }[] = [];
    // Eight accounts, alternating nodes: each node alone handles four, below the detector's five.
    for (let i = 0; i < 8; i++) {
      const node = i % 2 === 0 ? a : b;
      const d = await decide(node, login(`victim${i}`, ip, "failure", nextTime()));
      const spray = d.findings.find((f) => f.code === "password_spray");
      decisions.push({ node: node.name, identities: spray?.evidence.identities, spray: spray !== undefined });
    }
    // Distinct accounts seen before the attempt: 0…4 → nothing; from the sixth attempt on, the shared count reaches 5.
    expect(decisions.map((d) => d.spray)).toEqual([false, false, false, false, false, true, true, true]);
    expect(decisions.slice(5).map((d) => d.identities)).toEqual([5, 6, 7]);
    expect(new Set(decisions.filter((d) => d.spray).map((d) => d.node))).toEqual(new Set(["a", "b"]));

    const last = await decide(a, login("victim8", ip, "failure", nextTime()));
    expect(last.matched.map((m) => m.id)).toContain("spray-source");
    expect(last.control_path).toBe("throttle");
  });

  it("decided everything from the cluster's state, never on the on_error path", () => {
    expect(decided.length).toBe(11);
    for (const { node, decision } of decided) {
      expect(decision.errors, `node ${node}: ${(node === "a" ? a : b).log}`).toEqual([]);
      expect(decision.findings.map((f) => f.code)).not.toContain("state_unavailable");
    }
  });

  it("spreads the decisions' keys over every master of the cluster", async () => {
    const held = await Promise.all(cluster.ports.map((port) => cluster.keysOn(port, `${PREFIX}*`)));
    const counts = new Map(cluster.ports.map((port, i) => [port, held[i]?.length ?? 0]));
    expect(counts.size).toBe(3);
    for (const [port, count] of counts) {
      expect(count, `master ${port} holds none of the run's keys: ${JSON.stringify([...counts])}`).toBeGreaterThan(0);
    }
    // Every key sits on the master that serves its slot, and no master holds another's keys.
    const all = held.flat();
    expect(new Set(all).size).toBe(all.length);
    const sample = held.map((keys) => keys[0] ?? "");
    expect(await Promise.all(sample.map((key) => cluster.portOf(key)))).toEqual([...cluster.ports]);
  });

  it("writes one audit chain per node, and both verify", async () => {
    const result = await runCli(["audit", "verify", "--audit", AUDIT_URL, "--data-dir", join(dir, "cli")]);
    expect(result.code, result.stderr).toBe(0);
    const verification = JSON.parse(result.stdout.trim()) as { ok: boolean; checked: number; writers: string[] };
    expect(verification.ok).toBe(true);
    expect(verification.writers).toHaveLength(2);
    // 2 token uses + 9 logins, every one recorded by the node that decided it
    expect(verification.checked).toBeGreaterThanOrEqual(decided.length);
    expect(result.stderr).toContain("audit chain ok");
  });

  it("shuts both nodes down cleanly", async () => {
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  });
});
