/** Runs the audit conformance suite against a real PostgreSQL, each test in a schema of its own. */

import pg from "pg";
import { describe, it } from "vitest";
import { runAuditConformance } from "./conformance.js";
import { postgresHarness } from "./postgres-harness.js";

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
  runAuditConformance("postgresql", () => postgresHarness(URL));
} else {
  describe.skip("audit conformance: postgresql (no server)", () => {
    it("needs PostgreSQL", () => {});
  });
}
