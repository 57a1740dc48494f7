/**
 * The PostgreSQL audit store over TLS, against a private PostgreSQL of the test's own that accepts
 * only TLS connections (`test/support/postgres-tls-server.ts`), its certificate from a CA made for
 * the test. The audit conformance suite runs through `?sslmode=verify-full&sslrootcert=…` on the
 * connection URL (libpq's parameters, which the URL carries to the driver); the audit URL that
 * `--audit` takes keeps them; and a connection without TLS, or trusting another CA, is refused
 * with an error that says why.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAuditStore, openAuditTrail } from "../../src/audit/open-audit.js";
import { PostgresAuditBackend } from "../../src/audit/postgres-backend.js";
import { verifyChain } from "../../src/audit/verify-chain.js";
import { isSignalboxError } from "../../src/errors/signalbox-error.js";
import { PostgresTlsServer, postgresBinaries } from "../support/postgres-tls-server.js";
import { makeCertificates, opensslInstalled, type TestCertificates } from "../support/tls-certs.js";
import { runAuditConformance } from "./conformance.js";
import { makeEntry } from "./fixtures.js";
import { postgresHarness, testSchema } from "./postgres-harness.js";

const bin = postgresBinaries();
const ready = bin !== undefined && opensslInstalled();
if (!ready) {
  if (process.env.CI === "true")
    throw new Error("no PostgreSQL server binaries or openssl and CI=true: refusing to skip");
  console.warn("\n*** SKIPPING the PostgreSQL TLS audit tests: no PostgreSQL server binaries or openssl ***\n");
}

describe.skipIf(!ready)("the PostgreSQL audit store over TLS", () => {
  let dir: string;
  let certs: TestCertificates;
  let server: PostgresTlsServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-postgres-tls-"));
    certs = makeCertificates(dir);
    server = await PostgresTlsServer.start(dir, certs, bin as string);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  runAuditConformance("postgresql over TLS", () => postgresHarness(server.url(certs.ca)));

  it("keeps the TLS parameters of an --audit URL: records a decision and verifies the chain over TLS", async () => {
    const schema = testSchema();
    const trail = await openAuditStore(server.url(certs.ca, `schema=${schema}`), dir);
    try {
      for (let n = 1; n <= 5; n++) await trail.recordDecision(makeEntry({ n }));
      expect(await verifyChain(trail)).toMatchObject({ ok: true, checked: 5 });
    } finally {
      await trail.close();
      const admin = await PostgresAuditBackend.open({ connectionString: server.url(certs.ca), schema });
      await admin.dropSchema();
      await admin.close();
    }
  });

  it("refuses an --audit URL naming a TLS file that cannot be read, before dialling, naming the parameter", async () => {
    const missing = join(dir, "missing-ca.pem");
    const err = await openAuditTrail(server.url(missing), dir).catch((e: unknown) => e);
    expect(isSignalboxError(err) && err.code).toBe("CONFIG_INVALID");
    expect(String((err as Error).message)).toMatch(
      new RegExp(`sslrootcert '${missing}' in audit URL ".*" cannot be read \\(ENOENT\\)`),
    );
  });

  it.each([
    ["without TLS (the server accepts only TLS)", () => server.url(undefined, "sslmode=disable"), /no encryption/],
    [
      "trusting another CA",
      () => server.url(certs.otherCa),
      /self-signed certificate in certificate chain|unable to verify|certificate/,
    ],
  ])("refuses a connection %s, saying why", async (_, url, why) => {
    const err = await openAuditTrail(url(), dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const text = `${(err as Error).message} ${isSignalboxError(err) ? String((err.cause as Error | undefined)?.message) : ""}`;
    expect(text).toMatch(why);
  });
});
