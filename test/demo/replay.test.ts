/** The demo's HTTP replay: a few requests in flight, each identity's requests and challenge outcomes strictly in order. */

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { replayOverHttp } from "../../src/demo/replay.js";
import type { SimEvent } from "../../src/simulate/event.js";

interface Seen {
  /** `decide <subject> <n>` or `outcome <decision id> <outcome>`, in arrival order. */
  readonly log: string[];
  maxInFlight: number;
}

/** A stand-in decision service: answers after a varying delay; every third request steps up. */
function fakeService(seen: Seen): Promise<{ server: Server; url: string }> {
  let inFlight = 0;
  let count = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      if (req.url === "/v1/decide") {
        const request = JSON.parse(body) as { subject: { id: string }; action: { name: string } };
        const n = count++;
        inFlight++;
        seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
        seen.log.push(`decide ${request.subject.id} ${request.action.name}`);
        setTimeout(
          () => {
            inFlight--;
            const path = n % 3 === 0 ? "step_up" : "allow";
            res.writeHead(200, { "content-type": "application/json" });
            res.end(
              JSON.stringify({
                decision: path === "allow",
                decision_id: `d-${request.subject.id}-${request.action.name}`,
                control_path: path,
                risk: { score: 0, band: "low" },
                segment: "people-login",
                reasons: [],
                obligations: [],
                findings: [],
              }),
            );
          },
          (n * 7) % 13,
        );
        return;
      }
      const m = /^\/v1\/decisions\/([^/]+)\/outcome$/.exec(req.url ?? "");
      if (m?.[1]) {
        seen.log.push(`outcome ${decodeURIComponent(m[1])} ${(JSON.parse(body) as { outcome: string }).outcome}`);
        res.writeHead(204);
        res.end();
        return;
      }
      res.writeHead(404);
      res.end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

function event(identity: string, step: number, actor: "legitimate" | "attacker"): SimEvent {
  return {
    at: step,
    request: {
      subject: { type: "user", id: identity },
      action: { name: `a${step}` },
      resource: { type: "application", id: "portal" },
    },
    label: { actor, human: true, identity: `user:${identity}` },
  };
}

let running: Server | undefined;
afterEach(() => {
  running?.close();
  running = undefined;
});

describe("replayOverHttp", () => {
  it("keeps per-identity order, reports challenge outcomes before the next request, and bounds requests in flight", async () => {
    const seen: Seen = { log: [], maxInFlight: 0 };
    const { server, url } = await fakeService(seen);
    running = server;
    const identities = ["ann", "bob", "cid", "dee", "eve"];
    const events = Array.from({ length: 120 }, (_, i) =>
      event(identities[(i * 7) % 5] ?? "ann", i, i % 5 === 4 ? "attacker" : "legitimate"),
    );
    const progress: number[] = [];
    const replayed = await replayOverHttp(url, events, { concurrency: 8, onProgress: (done) => progress.push(done) });

    expect(replayed.map((r) => r.event)).toEqual(events);
    expect(progress.at(-1)).toBe(events.length);
    // 8 allowed in flight, but never two of one identity at once: at most one per identity reaches the service
    expect(seen.maxInFlight).toBeLessThanOrEqual(identities.length);
    expect(seen.maxInFlight).toBeGreaterThan(1);

    for (const id of identities) {
      const mine = seen.log.filter((l) => l.startsWith(`decide ${id} `) || l.startsWith(`outcome d-${id}-`));
      const expected = replayed
        .filter((r) => r.event.request.subject.id === id)
        .flatMap((r) => [
          `decide ${id} ${r.event.request.action.name}`,
          ...(r.outcome ? [`outcome ${r.decision.decision_id} ${r.outcome}`] : []),
        ]);
      expect(mine).toEqual(expected);
    }
    const stepUps = replayed.filter((r) => r.decision.control_path === "step_up");
    expect(stepUps.length).toBeGreaterThan(0);
    for (const r of stepUps) {
      expect(r.outcome).toBe(r.event.label.actor === "legitimate" ? "step_up_passed" : "step_up_failed");
    }
    for (const r of replayed.filter((x) => x.decision.control_path === "allow")) expect(r.outcome).toBeUndefined();
  });

  it("rejects naming the call when the service answers an error", async () => {
    const seen: Seen = { log: [], maxInFlight: 0 };
    const { server, url } = await fakeService(seen);
    running = server;
    await expect(replayOverHttp(`${url}/nowhere`, [event("ann", 1, "legitimate")], { concurrency: 2 })).rejects.toThrow(
      /POST \/v1\/decide answered 404/,
    );
  });
});
