/** Runs the audit conformance suite against a real PostgreSQL, each test in a schema of its own. */

import { randomUUID } from "node:crypto";
import pg from "pg";
import { describe, it } from "vitest";
import { PostgresAuditBackend } from "../../src/audit/postgres-backend.js";
import { runAuditConformance } from "./conformance.js";

const URL = process.env.SIGNALBOX_TEST_POSTGRES ?? "postgresql://postgres@127.0.0.1:5432/test";

async function postgresIsUp(): Promise<boolean> {
  const client = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const up = await postgresIsUp();
if (!up) {
  if (process.env.CI === "true")
    throw new Error(`postgresql is not reachable at '${URL}' and CI=true: refusing to skip`);
  console.warn(`\n*** SKIPPING the PostgreSQL audit tests: no PostgreSQL at '${URL}' ***\n`);
}

if (up) {
  runAuditConformance("postgresql", async () => {
    const schema = `sbaudit_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const backends: PostgresAuditBackend[] = [];
    const admin = await PostgresAuditBackend.open({ connectionString: URL, schema });
    return {
      async open() {
        const b = await PostgresAuditBackend.open({ connectionString: URL, schema, durability: "strict" });
        backends.push(b);
        return b;
      },
      exec: (sql, params = []) => admin.exec(sql, params),
      async cleanup() {
        for (const b of backends) await b.close().catch(() => {});
        await admin.dropSchema();
        await admin.close();
      },
    };
  });
} else {
  describe.skip("audit conformance: postgresql (no server)", () => {
    it("needs PostgreSQL", () => {});
  });
}
