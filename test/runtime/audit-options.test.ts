import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { maskValue } from "../../src/audit/mask.js";
import { openAuditStore } from "../../src/audit/open-audit.js";
import { verifyChain } from "../../src/audit/verify-chain.js";
import { loadConfig } from "../../src/config/load-config.js";
import { auditOptionsOf } from "../../src/runtime/audit-options.js";
import { openRuntime } from "../../src/runtime/open-runtime.js";
import { CERTIFICATION_POLICY } from "../server/support.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "signalbox-runtime-audit-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const REQUEST = {
  subject: { type: "user", id: "alice" },
  action: { name: "read" },
  resource: { type: "record", id: "record-1" },
  context: { ip: "203.0.113.9", session: { id: "session-77" } },
};

describe("audit options from the configuration", () => {
  it("passes only what the operator set, so the trail's defaults apply to the rest", () => {
    expect(auditOptionsOf(loadConfig().auditTrail)).toEqual({ durability: "normal" });
    const c = loadConfig({
      env: {
        SIGNALBOX_AUDIT_DURABILITY: "strict",
        SIGNALBOX_AUDIT_CHECKPOINT_INTERVAL_MS: "5000",
        SIGNALBOX_AUDIT_MASK_KEY: "mask-key-for-the-options-test",
      },
    });
    expect(auditOptionsOf(c.auditTrail)).toEqual({
      durability: "strict",
      maskKey: "mask-key-for-the-options-test",
      checkpoints: { intervalMs: 5000 },
    });
  });

  it("writes the configured chain, masks with the configured key and signs checkpoints", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const keyFile = join(dir, "checkpoint.pem");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));
    const maskKey = "runtime-test-mask-key-0123456789";
    const config = loadConfig({
      flags: {
        policy: CERTIFICATION_POLICY,
        dataDir: dir,
        state: "memory:",
        enrichment: "pep",
        auditDurability: "strict",
        auditWriterId: "node-under-test",
        auditMask: "context.ip,context.session",
        auditCheckpointKeyFile: keyFile,
        auditCheckpointEvery: "2",
      },
      env: { SIGNALBOX_AUDIT_MASK_KEY: maskKey },
    });
    const runtime = await openRuntime(config);
    const ids: string[] = [];
    try {
      for (let i = 0; i < 3; i++) ids.push((await runtime.engine.decide(REQUEST)).id);
    } finally {
      await runtime.close();
    }

    const store = await openAuditStore(undefined, dir);
    try {
      expect(await store.writers()).toEqual(["node-under-test"]);
      const decisions = (await store.query({ kind: "decision" }, undefined, 10)).records;
      expect(decisions.map((r) => r.decision_id)).toEqual(ids);
      const first = decisions[0];
      if (first?.kind !== "decision") throw new Error("expected a decision record");
      const context = first.request.context as Record<string, unknown>;
      expect(context.ip).toBe(maskValue(maskKey, "203.0.113.9"));
      expect(context.session).toBe(maskValue(maskKey, { id: "session-77" }));

      const checkpoints = (await store.query({ kind: "checkpoint" }, undefined, 10)).records;
      // one after two records, one on close for the third
      expect(checkpoints.length).toBe(2);
      for (const cp of checkpoints) {
        if (cp.kind !== "checkpoint") throw new Error("expected a checkpoint record");
        expect(cp.checkpoint.jws).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      }
      const verified = await verifyChain(store, { publicKey });
      expect(verified.ok).toBe(true);
      expect(verified.unanchored).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("refuses to start on a checkpoint key it cannot use, naming the variable", async () => {
    writeFileSync(join(dir, "not-a-key.pem"), "hello\n");
    expect(() => loadConfig({ env: { SIGNALBOX_AUDIT_CHECKPOINT_KEY_FILE: join(dir, "not-a-key.pem") } })).toThrow(
      /^SIGNALBOX_AUDIT_CHECKPOINT_KEY_FILE: checkpoint private key ".*not-a-key\.pem" is not a PEM or JWK/,
    );
  });
});
