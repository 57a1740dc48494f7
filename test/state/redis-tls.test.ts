/**
 * Redis state over TLS, against a `redis-server` of the test's own that speaks only TLS on its
 * client port and requires client certificates (`tls-auth-clients yes`), with certificates from a
 * private CA made for the test (`test/support/tls-certs.ts`): what a self-hosted Redis with TLS
 * looks like. The state conformance suite runs through `rediss://…?tls_ca=…&tls_cert=…&tls_key=…`;
 * without the CA, with another CA, or without a client certificate the store refuses to start with
 * an error that says why; and the TLS parameters are checked before anything is dialled. Then the
 * same through `rediss+sentinel://` (a primary, its replica and a sentinel, all speaking TLS, the
 * store following a failover) and `rediss+cluster://` (three masters speaking TLS to their clients
 * and to each other).
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { isSignalboxError } from "../../src/errors/signalbox-error.js";
import { openStateStore } from "../../src/state/open-state.js";
import type { RedisStateStore } from "../../src/state/redis.js";
import { RedisClusterSet } from "../scaleout/redis-cluster-set.js";
import { freePort, RedisProcess, redisServerFor } from "../scaleout/redis-process.js";
import { RedisSentinelSet, until } from "../scaleout/redis-sentinel-set.js";
import { makeCertificates, opensslInstalled, type TestCertificates } from "../support/tls-certs.js";
import { runStateConformance, see } from "./conformance.js";
import { LIVE_COPIES } from "./redis-live-copies.js";

const RUN = `sbtls-${randomUUID().slice(0, 8)}`;
const T0 = 1_700_000_000_000;

const installed = await redisServerFor("the Redis TLS tests");
const openssl = opensslInstalled();
if (!openssl) {
  if (process.env.CI === "true") throw new Error("openssl is not installed and CI=true: refusing to skip");
  console.warn("\n*** SKIPPING the Redis TLS tests: no openssl to make their certificates ***\n");
}

describe.skipIf(!installed || !openssl)("redis state over TLS with a private CA and client certificates", () => {
  let dir: string;
  let certs: TestCertificates;
  let server: RedisProcess;
  let tlsPort: number;
  let stores = 0;

  /** A `rediss://` state URL for the TLS port, with `params` (the TLS files among them). */
  const url = (params: string) =>
    `rediss://127.0.0.1:${tlsPort}/0?prefix=${RUN}:${++stores}:&timeout_ms=2000&${params}`;
  const trusted = () => `tls_ca=${certs.ca}&tls_cert=${certs.clientCert}&tls_key=${certs.clientKey}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-redis-tls-"));
    certs = makeCertificates(dir);
    tlsPort = await freePort();
    // The plain port answers the harness's readiness probe only; every store here dials the TLS port.
    server = await RedisProcess.start([
      "--tls-port",
      String(tlsPort),
      "--tls-cert-file",
      certs.serverCert,
      "--tls-key-file",
      certs.serverKey,
      "--tls-ca-cert-file",
      certs.ca,
      "--tls-auth-clients",
      "yes",
    ]);
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  runStateConformance("redis over TLS", () => openStateStore(url(trusted()), dir), undefined, {
    approximateDistinct: true,
    liveSnapshots: LIVE_COPIES,
  });

  it("talks TLS: what one store learns over TLS, another reads; the plain protocol on the TLS port is refused", async () => {
    const prefix = `${RUN}:shared:`;
    const shared = `rediss://127.0.0.1:${tlsPort}/0?prefix=${prefix}&timeout_ms=2000&${trusted()}`;
    const a = await openStateStore(shared, dir);
    const b = await openStateStore(shared, dir);
    try {
      await a.write([see("user:tls", "devices", "d1", T0)], T0);
      const read = await b.read({ profiles: ["user:tls"], counters: [], claims: [] }, T0 + 1);
      expect(Object.keys(read.profiles.get("user:tls")?.sets.devices ?? {})).toEqual(["d1"]);
    } finally {
      await a.close();
      await b.close();
    }
    const plain = await openStateStore(`redis://127.0.0.1:${tlsPort}/0?timeout_ms=500`, dir).catch((e: unknown) => e);
    expect(isSignalboxError(plain) && plain.code).toBe("STATE_UNAVAILABLE");
  });

  it.each([
    [
      "without tls_ca (the system's CAs do not know this one)",
      () => `tls_cert=${certs.clientCert}&tls_key=${certs.clientKey}`,
    ],
    ["trusting another CA", () => `tls_ca=${certs.otherCa}&tls_cert=${certs.clientCert}&tls_key=${certs.clientKey}`],
  ])("refuses to start %s, saying the certificate is not trusted", async (_, params) => {
    const err = await openStateStore(url(params()), dir).catch((e: unknown) => e);
    expect(isSignalboxError(err) && err.code).toBe("STATE_UNAVAILABLE");
    expect(String((err as Error).message)).toMatch(
      /cannot reach the state store at 'rediss:\/\/127\.0\.0\.1:\d+\/0.*certificate/,
    );
  });

  it("checks the server's certificate against tls_servername instead of the address dialled", async () => {
    // The server certificate names 127.0.0.1 and localhost: dialled by address, checked by name.
    const byName = await openStateStore(url(`${trusted()}&tls_servername=localhost`), dir);
    try {
      await byName.write([see("user:sni", "devices", "d1", T0)], T0);
      const read = await byName.read({ profiles: ["user:sni"], counters: [], claims: [] }, T0 + 1);
      expect(Object.keys(read.profiles.get("user:sni")?.sets.devices ?? {})).toEqual(["d1"]);
    } finally {
      await byName.close();
    }
    const err = await openStateStore(url(`${trusted()}&tls_servername=redis.example.net`), dir).catch(
      (e: unknown) => e,
    );
    expect(isSignalboxError(err) && err.code).toBe("STATE_UNAVAILABLE");
    expect(String((err as Error).message)).toMatch(/Hostname\/IP does not match certificate's altnames/);
  });

  it("refuses to start without a client certificate when the server asks for one", async () => {
    const err = await openStateStore(url(`tls_ca=${certs.ca}`), dir).catch((e: unknown) => e);
    expect(isSignalboxError(err) && err.code).toBe("STATE_UNAVAILABLE");
    expect(String((err as Error).message)).toMatch(/cannot reach the state store at 'rediss:/);
  });

  it("checks the TLS parameters before dialling: TLS only, certificate with key, readable PEM files", async () => {
    const refused = async (spec: string) => {
      const err = await openStateStore(spec, dir).catch((e: unknown) => e);
      expect(isSignalboxError(err) && err.code, spec).toBe("CONFIG_INVALID");
      return String((err as Error).message);
    };
    expect(await refused(`redis://127.0.0.1:${tlsPort}/0?tls_ca=${certs.ca}`)).toMatch(
      /tls_ca needs TLS: use rediss:\/\/, rediss\+sentinel:\/\/ or rediss\+cluster:\/\//,
    );
    expect(await refused(`redis+cluster://127.0.0.1:${tlsPort}?tls_cert=${certs.clientCert}`)).toMatch(
      /tls_cert needs TLS/,
    );
    expect(await refused(`rediss://127.0.0.1:${tlsPort}/0?tls_cert=${certs.clientCert}`)).toMatch(
      /tls_cert and tls_key go together/,
    );
    expect(await refused(`rediss://127.0.0.1:${tlsPort}/0?tls_ca=`)).toMatch(/tls_ca names no file/);
    expect(await refused(`rediss://127.0.0.1:${tlsPort}/0?tls_servername=`)).toMatch(/tls_servername names no host/);
    expect(await refused(`rediss://127.0.0.1:${tlsPort}/0?tls_servername=a/b`)).toMatch(
      /tls_servername 'a\/b' is not a host name/,
    );
    const missing = join(dir, "missing.pem");
    expect(await refused(`rediss://127.0.0.1:${tlsPort}/0?tls_ca=${missing}`)).toMatch(
      new RegExp(`tls_ca '${missing}' in state URL .* cannot be read \\(ENOENT\\)`),
    );
    const notPem = join(dir, "not-pem.txt");
    writeFileSync(notPem, "not a certificate\n");
    expect(await refused(`rediss://127.0.0.1:${tlsPort}/0?tls_ca=${notPem}`)).toMatch(
      new RegExp(`tls_ca '${notPem}' in state URL .* is not a PEM file`),
    );
    // The configuration loader says the same, naming the flag.
    expect(() => loadConfig({ flags: { state: `redis://127.0.0.1:6379/0?tls_ca=${certs.ca}` } })).toThrow(
      /state.*tls_ca needs TLS/s,
    );
    expect(() => loadConfig({ flags: { state: `rediss://h:6380/0?tls_key=${certs.clientKey}` } })).toThrow(
      /tls_cert and tls_key go together/,
    );
    expect(loadConfig({ flags: { state: `rediss://h:6380/0?${trusted()}` } }).state).toContain("tls_ca=");
  });
});

describe.skipIf(!installed || !openssl)("redis state on a Redis Cluster over TLS", () => {
  let dir: string;
  let certs: TestCertificates;
  let cluster: RedisClusterSet;
  let stores = 0;

  const url = () =>
    `${cluster.tlsUrl}?prefix=${RUN}:c${++stores}:&timeout_ms=2000&tls_ca=${certs.ca}&tls_cert=${certs.clientCert}&tls_key=${certs.clientKey}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-redis-cluster-tls-"));
    certs = makeCertificates(dir);
    cluster = await RedisClusterSet.start(dir, 3, 0, { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  runStateConformance("redis on a Cluster over TLS", () => openStateStore(url(), dir), undefined, {
    approximateDistinct: true,
    liveSnapshots: LIVE_COPIES,
  });

  it("splits a turn's calls over every master through TLS, learning the nodes' TLS ports from the cluster", async () => {
    const store = (await openStateStore(url(), dir)) as RedisStateStore;
    try {
      expect(store.clusterSplit).toBe("node");
      const users = Array.from({ length: 30 }, (_, i) => `user:t${i}`);
      await Promise.all(users.map((u, i) => store.write([see(u, "devices", `d${i}`, T0)], T0)));
      const snapshot = await store.read({ profiles: users, counters: [], claims: [] }, T0 + 1);
      users.forEach((u, i) => {
        expect(Object.keys(snapshot.profiles.get(u)?.sets.devices ?? {})).toEqual([`d${i}`]);
      });
      // Every master holds some of them: the client reached each over TLS, though the URL named it by
      // its TLS port and the harness sees it on its plain one.
      for (const port of cluster.ports) {
        expect((await cluster.keysOn(port, `${RUN}:c${stores}:*`)).length, `keys on ${port}`).toBeGreaterThan(0);
      }
    } finally {
      await store.flushPrefix();
      await store.close();
    }
  });
});

describe.skipIf(!installed || !openssl)("redis state through Redis Sentinel over TLS", () => {
  let dir: string;
  let certs: TestCertificates;
  let set: RedisSentinelSet;
  let stores = 0;

  const url = () =>
    set.tlsUrl(
      `prefix=${RUN}:s${++stores}:&timeout_ms=2000&tls_ca=${certs.ca}&tls_cert=${certs.clientCert}&tls_key=${certs.clientKey}`,
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "signalbox-redis-sentinel-tls-"));
    certs = makeCertificates(dir);
    set = await RedisSentinelSet.start(dir, { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca });
  }, 60_000);

  afterAll(async () => {
    await set?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  runStateConformance("redis through Sentinel over TLS", () => openStateStore(url(), dir), undefined, {
    approximateDistinct: true,
    liveSnapshots: LIVE_COPIES,
  });

  it("follows a failover over TLS: the sentinel names the new primary's TLS port, what was learned stays", async () => {
    const store = (await openStateStore(url(), dir)) as RedisStateStore;
    try {
      const query = { profiles: ["user:dana"], counters: [], claims: [] };
      await store.write([see("user:dana", "devices", "d1", T0)], T0);
      // The replica has the write before the failover starts (replication is asynchronous).
      await until("the replica to have the write", async () =>
        (await set.replicaHas(`${RUN}:s${stores}:{user:dana}:p`)) ? true : undefined,
      );
      await set.failover();
      // Until the store has reconnected to the new primary (over TLS, at the port the sentinel now
      // names), its calls may fail, or may still reach the old primary before its demotion.
      await until(
        "the store to reach the new primary",
        async () => {
          await store.read(query, T0 + 1).catch(() => undefined);
          return (await set.replicaClients()).includes(`name=${store.connectionName}`) ? true : undefined;
        },
        30_000,
      );
      await store.write([see("user:dana", "devices", "d2", T0 + 1)], T0 + 1);
      const learned = (await store.read(query, T0 + 2)).profiles.get("user:dana");
      expect(Object.keys(learned?.sets.devices ?? {}).sort()).toEqual(["d1", "d2"]);
      expect(store.serverChanges).toBe(1);
      expect(await set.replicaHas(`${RUN}:s${stores}:{user:dana}:p`)).toBe(true);
    } finally {
      await store.close();
    }
  }, 90_000);
});
