/**
 * A `signalbox serve` process killed with SIGKILL under load loses nothing it answered: after a
 * restart on the same data directory every decision id a client received is in the audit trail,
 * the trail verifies, and what the engine learned before the crash is still known.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DecisionNode, type NativeDecision, runCli } from "../scaleout/decision-node.js";

const SERVE_ARGS = ["--enrichment", "pep", "--rate-limit", "0"];
const WORKERS = 32;
const RECEIVED_BEFORE_KILL = 400;

function login(user: string, device: string, n: number): unknown {
  return {
    subject: { type: "user", id: user },
    action: { name: "login" },
    resource: { type: "application", id: "portal" },
    context: {
      ip: `198.51.100.${(n % 250) + 1}`,
      device: { id: device, managed: true },
      authn: { result: "success", method: "password" },
    },
  };
}

const deviceCodes = (d: NativeDecision) =>
  d.findings.map((f) => f.code).filter((c) => ["new_device", "first_seen_device", "first_seen_identity"].includes(c));

async function recordOutcome(node: DecisionNode, id: string, outcome: string): Promise<void> {
  const res = await fetch(`${node.url}/v1/decisions/${id}/outcome`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ outcome }),
  });
  expect(res.status).toBe(204);
}

/** A sign-in by alice that passes a step-up when challenged, as the real alice would (trusted outcomes teach). */
async function aliceSignsIn(node: DecisionNode, device: string, n: number): Promise<NativeDecision> {
  const d = await node.decide(login("alice", device, n));
  if (d.control_path === "step_up") await recordOutcome(node, d.decision_id, "step_up_passed");
  return d;
}

/**
 * `WORKERS` clients send logins back to back, each for its own users, and record every decision id
 * they receive; once `RECEIVED_BEFORE_KILL` have come back the server is killed with SIGKILL while
 * the others are still in flight.
 */
async function loadUntilKilled(node: DecisionNode): Promise<{ received: string[]; failed: number }> {
  const received: string[] = [];
  let failed = 0;
  let killed = false;
  const worker = async (w: number) => {
    for (let n = 0; ; n++) {
      try {
        const d = await node.decide(login(`load-${w}-${n % 5}`, `dev-load-${w}`, n));
        received.push(d.decision_id);
      } catch {
        failed++;
        return;
      }
      if (!killed && received.length >= RECEIVED_BEFORE_KILL) {
        killed = true;
        node.signal("SIGKILL");
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  return { received, failed };
}

let dir: string;
const nodes: DecisionNode[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "signalbox-server-crash-"));
});
afterEach(async () => {
  for (const node of nodes.splice(0)) if (node.running) node.signal("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("signalbox serve killed with SIGKILL mid-load", () => {
  it("keeps every answered decision, a verifiable trail and the learned devices", async () => {
    const first = await DecisionNode.start("before-crash", [...SERVE_ARGS, "--data-dir", dir]);
    nodes.push(first);

    // alice's engine learns two devices: the first one ever seen, then a second one
    const seen = await aliceSignsIn(first, "dev-laptop", 1);
    expect(deviceCodes(seen)).toEqual(["first_seen_identity"]);
    const phone = await aliceSignsIn(first, "dev-phone", 2);
    expect(deviceCodes(phone)).toEqual(["new_device"]);
    const phoneAgain = await aliceSignsIn(first, "dev-phone", 3);
    expect(deviceCodes(phoneAgain)).toEqual([]);

    const { received, failed } = await loadUntilKilled(first);
    const exitCode = await first.exited;
    expect(first.running).toBe(false);
    expect(exitCode).toBeNull(); // killed by a signal, not exited
    expect(received.length).toBeGreaterThanOrEqual(RECEIVED_BEFORE_KILL);
    // requests were still in flight when the process died
    expect(failed).toBeGreaterThan(0);
    const answered = [seen.decision_id, phone.decision_id, phoneAgain.decision_id, ...received];
    expect(new Set(answered).size).toBe(answered.length);

    // the trail a killed server leaves behind verifies as it is
    const afterCrash = await runCli(["audit", "verify", "--data-dir", dir]);
    expect(afterCrash.code, afterCrash.stderr + afterCrash.stdout).toBe(0);

    const second = await DecisionNode.start("after-restart", [...SERVE_ARGS, "--data-dir", dir]);
    nodes.push(second);
    const missing: string[] = [];
    for (let i = 0; i < answered.length; i += 16) {
      const statuses = await Promise.all(
        answered.slice(i, i + 16).map(async (id) => ({ id, status: (await second.get(`/v1/decisions/${id}`)).status })),
      );
      for (const s of statuses) if (s.status !== 200) missing.push(`${s.id} (${s.status})`);
    }
    expect(missing).toEqual([]);
    // outcomes reported before the crash are in the trail too
    for (const d of [seen, phone]) {
      const recorded = JSON.parse((await second.get(`/v1/decisions/${d.decision_id}`)).text) as {
        outcomes: { outcome: string }[];
      };
      expect(recorded.outcomes.map((o) => o.outcome)).toEqual(d.control_path === "step_up" ? ["step_up_passed"] : []);
    }

    // learned state survived: both of alice's devices are known, a third one is new
    for (const [n, device] of [
      [4, "dev-laptop"],
      [5, "dev-phone"],
    ] as const) {
      expect(deviceCodes(await second.decide(login("alice", device, n)))).toEqual([]);
    }
    expect(deviceCodes(await second.decide(login("alice", "dev-tablet", 6)))).toEqual(["new_device"]);

    // the restarted server continues the trail, and the whole trail still verifies
    expect(await second.stop()).toBe(0);
    const atEnd = await runCli(["audit", "verify", "--data-dir", dir]);
    expect(atEnd.code, atEnd.stderr + atEnd.stdout).toBe(0);
  }, 90_000);
});
