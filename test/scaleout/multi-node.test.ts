/**
 * Two `signalbox serve` processes sharing Redis state and a PostgreSQL audit trail: a token replayed
 * across nodes is caught, a password spray split across nodes is seen whole, both audit chains
 * verify, and a policy change reaches both nodes.
 */

import { randomUUID } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY_FILE } from "../../src/policy/load.js";
import { DecisionNode, eventually, runCli } from "./decision-node.js";
import { at, login, tokenUse } from "./requests.js";
import {
  deleteRedisPrefix,
  dropPostgresSchema,
  postgresAnswers,
  redisAnswers,
  requireServices,
  SHARED_POSTGRES,
  SHARED_REDIS,
} from "./shared-services.js";

const RUN = randomUUID().replaceAll("-", "").slice(0, 10);
const PREFIX = `sbmn-${RUN}:`;
const SCHEMA = `sb_mn_${RUN}`;
const AUDIT_URL = `${SHARED_POSTGRES}?schema=${SCHEMA}`;
const STATE_URL = `${SHARED_REDIS}?prefix=${PREFIX}`;

const missing = [
  ...((await redisAnswers(SHARED_REDIS)) ? [] : [`Redis at '${SHARED_REDIS}'`]),
  ...((await postgresAnswers(SHARED_POSTGRES)) ? [] : [`PostgreSQL at '${SHARED_POSTGRES}'`]),
];
const canRun = requireServices("the multi-node tests", missing);

describe.skipIf(!canRun)("two decision nodes sharing Redis state and a PostgreSQL audit trail", () => {
  const dir = mkdtempSync(join(tmpdir(), "signalbox-multinode-"));
  const policyFile = join(dir, "policy.yaml");
  let a: DecisionNode;
  let b: DecisionNode;
  let minute = 0;
  const nextTime = () => at(++minute);

  beforeAll(async () => {
    copyFileSync(DEFAULT_POLICY_FILE, policyFile);
    const common = [
      "--policy",
      policyFile,
      "--state",
      STATE_URL,
      "--audit",
      AUDIT_URL,
      "--event-time",
      "request",
      "--enrichment",
      "pep",
    ];
    // One node first: the audit schema and its migrations are created once, then the second joins.
    // This test is about shared state, not about the fallback: a busy CI machine must not turn a slow
    // Redis reply into an on_error decision.
    const env = { SIGNALBOX_STATE_TIMEOUT_MS: "2000" };
    a = await DecisionNode.start("a", [...common, "--data-dir", join(dir, "node-a")], env);
    b = await DecisionNode.start("b", [...common, "--data-dir", join(dir, "node-b")], env);
  });

  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await Promise.allSettled([deleteRedisPrefix(SHARED_REDIS, PREFIX), dropPostgresSchema(SHARED_POSTGRES, SCHEMA)]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs two separate processes that are both ready", async () => {
    expect(a.pid).not.toBe(b.pid);
    expect(a.url).not.toBe(b.url);
    for (const node of [a, b]) {
      const ready = await node.get("/readyz");
      expect(JSON.parse(ready.text), node.log).toEqual({ status: "ready", state: "ok", audit: "ok" });
    }
  });

  it("catches a token used on node A and replayed from another device on node B", async () => {
    const jti = `tok-${RUN}`;
    const first = await a.decide(tokenUse(`dana-${RUN}`, jti, "laptop-7", "198.51.100.20", nextTime()));
    expect(first.findings.map((f) => f.code)).not.toContain("token_replay");
    expect(first.errors).toEqual([]);

    const replay = await b.decide(tokenUse(`dana-${RUN}`, jti, "phone-3", "198.51.100.21", nextTime()));
    const finding = replay.findings.find((f) => f.code === "token_replay");
    expect(finding?.severity).toBe("critical");
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
      const d = await node.decide(login(`victim${i}-${RUN}`, ip, "failure", nextTime()));
      const spray = d.findings.find((f) => f.code === "password_spray");
      decisions.push({ node: node.name, identities: spray?.evidence.identities, spray: spray !== undefined });
    }
    // Distinct accounts seen before the attempt: 0…4 → nothing; from the sixth attempt on, the shared count reaches 5.
    expect(decisions.map((d) => d.spray)).toEqual([false, false, false, false, false, true, true, true]);
    expect(decisions.slice(5).map((d) => d.identities)).toEqual([5, 6, 7]);
    expect(new Set(decisions.filter((d) => d.spray).map((d) => d.node))).toEqual(new Set(["a", "b"]));

    const last = await a.decide(login(`victim8-${RUN}`, ip, "failure", nextTime()));
    expect(last.matched.map((m) => m.id)).toContain("spray-source");
    expect(last.control_path).toBe("throttle");

    // The address finally gets in: the spray succeeded, so the sign-in steps up.
    const success = await b.decide(login(`victim9-${RUN}`, ip, "success", nextTime()));
    expect(success.findings.find((f) => f.code === "password_spray")?.severity).toBe("high");
    expect(success.control_path).toBe("step_up");
  });

  it("writes one audit chain per node, and both verify", async () => {
    const result = await runCli(["audit", "verify", "--audit", AUDIT_URL, "--data-dir", join(dir, "cli")]);
    expect(result.code, result.stderr).toBe(0);
    const verification = JSON.parse(result.stdout.trim()) as { ok: boolean; checked: number; writers: string[] };
    expect(verification.ok).toBe(true);
    expect(verification.writers).toHaveLength(2);
    // 2 token uses + 10 logins, every one recorded by the node that decided it
    expect(verification.checked).toBeGreaterThanOrEqual(12);
    expect(result.stderr).toContain("audit chain ok");
  });

  it("brings a policy change to both nodes, which then decide on the new revision", async () => {
    const before = await a.decide(login(`erin-${RUN}`, "192.0.2.1", "success", nextTime()));
    expect(before.policy.revision).toBe("2026-11-23.1");
    const revision = `scaleout-${RUN}`;
    const source = readFileSync(policyFile, "utf8");
    expect(source).toContain('revision: "2026-11-23.1"');
    // Both nodes watch the same file (as with a mounted ConfigMap); replace it atomically like a deploy tool.
    writeFileSync(`${policyFile}.tmp`, source.replace('revision: "2026-11-23.1"', `revision: "${revision}"`));
    copyFileSync(`${policyFile}.tmp`, policyFile);
    rmSync(`${policyFile}.tmp`);
    for (const node of [a, b]) {
      const seen = await eventually(async () => {
        const d = await node.decide(login(`erin-${RUN}`, "192.0.2.1", "success", nextTime()));
        return d.policy.revision === revision ? d : undefined;
      });
      expect(seen?.policy.revision, `node ${node.name} never decided on the new policy: ${node.log}`).toBe(revision);
      const health = JSON.parse((await node.get("/healthz")).text) as { policy: { revision: string } };
      expect(health.policy.revision).toBe(revision);
      expect(await node.metric(`signalbox_policy_info{id="default",revision="${revision}"}`)).toBe(1);
    }
  });

  it("shuts both nodes down cleanly", async () => {
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  });
});
