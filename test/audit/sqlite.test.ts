/** Runs the audit conformance suite against SQLite files in a temporary directory. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteAuditBackend } from "../../src/audit/sqlite-backend.js";
import { runAuditConformance } from "./conformance.js";

runAuditConformance("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "signalbox-audit-"));
  const file = join(dir, "audit.db");
  const backends: SqliteAuditBackend[] = [];
  const admin = await SqliteAuditBackend.open({ file });
  return {
    async open() {
      const b = await SqliteAuditBackend.open({ file, durability: "strict" });
      backends.push(b);
      return b;
    },
    async exec(sql, params = []) {
      admin.exec(sql, params);
    },
    async cleanup() {
      await admin.close();
      for (const b of backends) await b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
