/** A decision whose only state effect is a won claim is answered only after that claim is on disk. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { Detector } from "../../src/detectors/detector.js";
import { createEngine } from "../../src/engine/create-engine.js";
import { SqliteStateStore } from "../../src/state/sqlite.js";
import { policy, segment } from "./fixtures.js";

/** Claims the request's token id and writes nothing else. */
const claimOnly: Detector = {
  id: "claim_only",
  description: "claims the token id, writes nothing",
  defaults: {},
  applies: () => true,
  needs(ctx, needs) {
    needs.claim({ key: `jti:${String(ctx.request.context?.jti)}`, holder: { who: ctx.subjectKey }, ttlMs: 60_000 });
  },
  detect: () => undefined,
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("claim durability", () => {
  it("commits a won claim before the decision is answered, even with no updates to write", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-claim-"));
    dirs.push(dir);
    const file = join(dir, "state.db");
    const state = await SqliteStateStore.open({ file });
    const engine = createEngine({
      policy: policy([segment({ name: "all", detectors: ["claim_only"] })]),
      detectors: [claimOnly],
      state,
    });
    try {
      const decision = await engine.decide({
        subject: { type: "user", id: "alice" },
        action: { name: "read" },
        resource: { type: "doc", id: "1" },
        context: { jti: "t-1" },
      });
      expect(decision.controlPath).toBe("allow");
      // A separate connection sees the claim as soon as the answer is out.
      const other = new Database(file, { readonly: true });
      try {
        const row = other.prepare("SELECT holder FROM claims WHERE key = ?").get("jti:t-1") as
          | { holder: string }
          | undefined;
        expect(row && JSON.parse(row.holder)).toEqual({ who: "user:alice" });
      } finally {
        other.close();
      }
    } finally {
      await engine.close();
    }
  });
});
