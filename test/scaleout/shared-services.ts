/** The machine's shared Redis and PostgreSQL for the multi-node tests: reachability, and cleanup of one run's data. */

import { Redis } from "ioredis";
import pg from "pg";
import { scanAll } from "../../src/state/redis-client.js";
import { redisAnswers } from "../support/redis-probe.js";

export const SHARED_REDIS = process.env.SIGNALBOX_TEST_REDIS ?? "redis://127.0.0.1:6379/0";
export const SHARED_POSTGRES = process.env.SIGNALBOX_TEST_POSTGRES ?? "postgresql://postgres@127.0.0.1:5432/test";

export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
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

/** Deletes every key under `prefix` (SCAN + DEL), so a run leaves the shared Redis as it found it. */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const admin = new Redis(url);
  try {
    const keys = await scanAll(admin, `${prefix}*`);
    for (let i = 0; i < keys.length; i += 1000) await admin.del(...keys.slice(i, i + 1000));
  } finally {
    admin.disconnect();
  }
}

export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`schema '${schema}' is not a plain identifier`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Says loudly why a suite cannot run, and refuses to skip in CI. Returns whether the suite may run.
 */
export function requireServices(suite: string, missing: readonly string[]): boolean {
  if (missing.length === 0) return true;
  const why = `${suite}: ${missing.join(" and ")} not reachable`;
  if (process.env.CI === "true") throw new Error(`${why} and CI=true: refusing to skip`);
  console.warn(`\n*** SKIPPING ${why} ***\n`);
  return false;
}
export { redisAnswers };
