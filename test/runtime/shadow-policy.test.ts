import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MemoryAuditTrail } from "../../src/audit/memory.js";
import { loadConfig } from "../../src/config/load-config.js";
import { openRuntime } from "../../src/runtime/open-runtime.js";
import { buildApp } from "../../src/server/app.js";
import type { Runtime } from "../../src/server/runtime.js";
import { ALICE_READ, REPO_ROOT } from "../server/support.js";

const EXAMPLE = join(REPO_ROOT, "examples/authzen-certification");

let dir: string;
let activeFile: string;
let shadowFile: string;
let original: string;

/** The certification policy with nobody allowed to read: it disagrees with the active one on every read. */
function strictCandidate(text: string): string {
  const out = text
    .replace("id: authzen-certification", "id: authzen-certification-candidate")
    .replace(`when: 'action.name == "read"'`, `when: 'action.name == "read" && subject.id == "nobody"'`);
  if (out === text) throw new Error("the example policy changed; update the shadow-policy test");
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "signalbox-runtime-shadow-"));
  activeFile = join(dir, "policy.yaml");
  shadowFile = join(dir, "candidate.yaml");
  copyFileSync(join(EXAMPLE, "policy.yaml"), activeFile);
  copyFileSync(join(EXAMPLE, "cert-entities.yaml"), join(dir, "cert-entities.yaml"));
  original = readFileSync(activeFile, "utf8");
  writeFileSync(shadowFile, strictCandidate(original));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The shadow policy's control path for Alice's read. */
async function shadowPathOf(runtime: Runtime): Promise<string | undefined> {
  let path: string | undefined;
  const stop = runtime.observe({ onShadowDecision: (_active, shadow) => (path = shadow.controlPath) });
  try {
    await runtime.engine.decide(ALICE_READ);
  } finally {
    stop();
  }
  return path;
}

function disagreements(metrics: string, active: string, shadow: string): number {
  const line = metrics
    .split("\n")
    .find((l) => l.startsWith(`signalbox_shadow_disagreements_total{active="${active}",shadow="${shadow}"}`));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

describe("--shadow-policy", () => {
  let runtime: Runtime;
  beforeAll(async () => {
    const config = loadConfig({
      flags: { policy: activeFile, shadowPolicy: shadowFile, state: "memory:", audit: "memory:", enrichment: "pep" },
    });
    runtime = await openRuntime(config);
  });
  afterAll(async () => {
    await runtime.close();
  });

  it("is evaluated beside the active policy, audited as shadow, never enforced, and counted when it disagrees", async () => {
    const config = loadConfig({ flags: { state: "memory:", audit: "memory:", enrichment: "pep", logLevel: "silent" } });
    const app = buildApp({ runtime, config, logger: false, processMetrics: false });
    try {
      const answered = await app.inject({ method: "POST", url: "/access/v1/evaluation", payload: ALICE_READ });
      expect(answered.json().decision).toBe(true);

      const audit = runtime.engine.audit as MemoryAuditTrail;
      const entries = [...audit.decisions.values()].map((d) => d.entry);
      expect(entries.map((e) => [e.shadow === true, e.decision.controlPath, e.decision.policy.id])).toEqual(
        expect.arrayContaining([
          [false, "allow", "authzen-certification"],
          [true, "deny", "authzen-certification-candidate"],
        ]),
      );
      expect(entries).toHaveLength(2);

      const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
      expect(disagreements(metrics, "allow", "deny")).toBe(1);
    } finally {
      await app.close();
    }
  });

  it("is reloaded with the active policy; a broken candidate keeps the previous one and is reported apart", async () => {
    writeFileSync(shadowFile, "signalbox: policy/v1\nid: broken\nsegments: 7\n");
    const broken = await runtime.reloadPolicy();
    expect(broken.ok).toBe(true);
    expect(broken.shadow?.ok).toBe(false);
    expect(await shadowPathOf(runtime)).toBe("deny");

    // the candidate now agrees with the active policy
    writeFileSync(shadowFile, original.replace("id: authzen-certification", "id: authzen-certification-candidate"));
    const fixed = await runtime.reloadPolicy();
    expect(fixed).toEqual({
      ok: true,
      id: "authzen-certification",
      revision: expect.any(String),
      shadow: { ok: true, id: "authzen-certification-candidate", revision: expect.any(String) },
    });
    expect(await shadowPathOf(runtime)).toBe("allow");
  });

  it("is reloaded when its file changes, when the runtime watches", async () => {
    const watchedShadow = join(dir, "watched-candidate.yaml");
    writeFileSync(watchedShadow, strictCandidate(original));
    const config = loadConfig({
      flags: { policy: activeFile, shadowPolicy: watchedShadow, state: "memory:", audit: "memory:", enrichment: "pep" },
    });
    const watching = await openRuntime(config, { watch: true });
    try {
      expect(await shadowPathOf(watching)).toBe("deny");
      writeFileSync(watchedShadow, original.replace("id: authzen-certification", "id: authzen-certification-next"));
      // wait for the watcher (debounced), without asserting how long it takes
      let path = await shadowPathOf(watching);
      for (let i = 0; i < 100 && path !== "allow"; i++) {
        await new Promise((r) => setTimeout(r, 100));
        path = await shadowPathOf(watching);
      }
      expect(path).toBe("allow");
    } finally {
      await watching.close();
    }
  });

  it("stops startup when the shadow policy file is broken", async () => {
    const bad = join(dir, "bad-candidate.yaml");
    writeFileSync(bad, "signalbox: policy/v1\nid: broken\nsegments: 7\n");
    const config = loadConfig({
      flags: { policy: activeFile, shadowPolicy: bad, state: "memory:", audit: "memory:", enrichment: "pep" },
    });
    await expect(openRuntime(config)).rejects.toMatchObject({ code: "POLICY_INVALID" });
  });
});
