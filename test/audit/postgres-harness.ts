/** The audit conformance harness on a PostgreSQL server: each test in a schema of its own, dropped afterwards. */

import { randomUUID } from "node:crypto";
import { PostgresAuditBackend } from "../../src/audit/postgres-backend.js";
import type { AuditStoreHarness } from "./conformance.js";

/** A fresh schema name for one test. */
export function testSchema(): string {
  return `sbaudit_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** Opens backends on `connectionString` in a new schema; `cleanup` closes them and drops it. */
export async function postgresHarness(connectionString: string): Promise<AuditStoreHarness> {
  const schema = testSchema();
  const backends: PostgresAuditBackend[] = [];
  const admin = await PostgresAuditBackend.open({ connectionString, schema });
  return {
    async open() {
      const b = await PostgresAuditBackend.open({ connectionString, schema, durability: "strict" });
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
}
