/** The database enricher against the bundled databases, and list reloads against files in a temp dir. */

import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDatabaseEnricher, type DatabaseEnricher } from "../../src/enrich/database-enricher.js";
import type { ListReport } from "../../src/enrich/network-lists.js";
import { SignalboxError } from "../../src/errors/signalbox-error.js";
import type { AccessRequest, RequestContext } from "../../src/model/request.js";

function request(context: RequestContext | undefined): AccessRequest {
  return {
    subject: { type: "user", id: "alice" },
    action: { name: "login" },
    resource: { type: "app", id: "portal" },
    ...(context && { context }),
  };
}

describe("database enricher with the bundled databases", () => {
  let enricher: DatabaseEnricher;
  beforeAll(async () => {
    enricher = await createDatabaseEnricher();
  });

  it("places 8.8.8.8 in the US on Google's AS", () => {
    const e = enricher.enrich(request({ ip: "8.8.8.8" }));
    expect(e.ip).toBe("8.8.8.8");
    expect(e.geo).toMatchObject({ source: "database", country: "US" });
    expect(typeof e.geo?.lat).toBe("number");
    expect(typeof e.geo?.lon).toBe("number");
    expect(e.geo?.accuracyKm).toBeGreaterThan(0);
    expect(e.network).toMatchObject({ asn: 15169, prefix: "8.8.8.0/24", anonymizer: false });
    expect(e.network?.org).toMatch(/google/i);
  });

  it("finds Cloudflare's AS for 1.1.1.1 and does not call it hosting", () => {
    const e = enricher.enrich(request({ ip: "1.1.1.1" }));
    expect(e.network).toMatchObject({ asn: 13335, hosting: false, prefix: "1.1.1.0/24" });
    expect(e.geo?.country).toBe("AU");
  });

  it("looks up IPv6 addresses and normalises them", () => {
    const e = enricher.enrich(request({ ip: "2001:4860:4860:0:0:0:0:8888" }));
    expect(e.ip).toBe("2001:4860:4860::8888");
    expect(e.network).toMatchObject({ asn: 15169, prefix: "2001:4860:4860::/48" });
    expect(e.geo?.source).toBe("database");
    expect(e.geo?.country).toMatch(/^[A-Z]{2}$/);
  });

  it("treats an IPv4-mapped address as the IPv4 client", () => {
    const e = enricher.enrich(request({ ip: "::ffff:1.1.1.1" }));
    expect(e.ip).toBe("1.1.1.1");
    expect(e.network?.asn).toBe(13335);
  });

  it("flags hosting networks from the shipped list, IPv4 and IPv6", () => {
    expect(enricher.enrich(request({ ip: "3.5.40.1" })).network).toMatchObject({ asn: 16509, hosting: true });
    expect(enricher.enrich(request({ ip: "2a01:4f8:c17::1" })).network).toMatchObject({ asn: 24940, hosting: true });
    expect(enricher.enrich(request({ ip: "82.132.130.1" })).network).toMatchObject({ asn: 35228, hosting: false });
  });

  it("lets the PEP's geo take precedence over the database", () => {
    const e = enricher.enrich(
      request({ ip: "8.8.8.8", geo: { country: "GB", lat: 51.5, lon: -0.12, accuracy_km: 5 } }),
    );
    expect(e.geo).toEqual({ source: "pep", country: "GB", lat: 51.5, lon: -0.12, accuracyKm: 5 });
    expect(e.network?.asn).toBe(15169);
  });

  it("falls back to the database when the PEP's geo is empty", () => {
    expect(enricher.enrich(request({ ip: "8.8.8.8", geo: {} })).geo?.source).toBe("database");
  });

  it("gives private addresses a prefix but no place or AS", () => {
    const e = enricher.enrich(request({ ip: "10.1.2.3" }));
    expect(e.ip).toBe("10.1.2.3");
    expect(e.geo).toBeUndefined();
    expect(e.network).toEqual({ prefix: "10.1.2.0/24", hosting: false, anonymizer: false });
  });

  it("yields fewer facts, never an exception, for bad addresses", () => {
    for (const ip of ["999.1.1.1", "not-an-ip", "1.2.3.4 ", "x".repeat(100_000), "", "fe80::1%eth0"]) {
      const e = enricher.enrich(request({ ip }));
      expect(e.ip, ip).toBeUndefined();
      expect(e.network, ip).toBeUndefined();
      expect(e.geo, ip).toBeUndefined();
    }
    const weird = enricher.enrich(request({ ip: 12345 as unknown as string, geo: { country: "FR" } }));
    expect(weird).toEqual({ geo: { source: "pep", country: "FR" } });
    expect(enricher.enrich(request(undefined))).toEqual({});
    expect(enricher.enrich({ ...request(undefined), context: null as unknown as RequestContext })).toEqual({});
  });

  it("parses the user agent, caps huge ones and ignores non-strings", () => {
    const chrome =
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
    expect(enricher.enrich(request({ user_agent: chrome })).client).toMatchObject({
      browser: "Chrome",
      browserMajor: "124",
      os: "Mac OS",
      device: "desktop",
      bot: false,
    });
    expect(enricher.enrich(request({ user_agent: `${chrome}${"x".repeat(2_000_000)}` })).client?.browser).toBe(
      "Chrome",
    );
    expect(enricher.enrich(request({ user_agent: "python-requests/2.32.3" })).client).toMatchObject({ bot: true });
    expect(enricher.enrich(request({ user_agent: 42 as unknown as string })).client).toBeUndefined();
  });

  it("serves repeated lookups from the cache as shared, frozen facts", () => {
    const a = enricher.enrich(request({ ip: "1.1.1.1", user_agent: "curl/8.0" }));
    const b = enricher.enrich(request({ ip: "1.1.1.1", user_agent: "curl/8.0" }));
    expect(b.network).toBe(a.network);
    expect(b.client).toBe(a.client);
    expect(Object.isFrozen(a.network)).toBe(true);
    expect(Object.isFrozen(a.client)).toBe(true);
  });

  it("reports what it loaded", () => {
    expect(enricher.stats.asn?.ipv4Ranges).toBeGreaterThan(100_000);
    expect(enricher.stats.asn?.ipv6Ranges).toBeGreaterThan(10_000);
    expect(enricher.stats.cityDatabaseBuiltAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(enricher.enrich(request({ ip: "8.8.8.8" })).reputation).toBeUndefined();
  });
});

describe("database enricher options", () => {
  it("starts light without databases and still gives prefixes", async () => {
    const light = await createDatabaseEnricher({ cityDb: false, asn: false, hostingAsnsFile: false });
    expect(light.stats.asn).toBeUndefined();
    expect(light.enrich(request({ ip: "8.8.8.8" }))).toEqual({
      ip: "8.8.8.8",
      network: { prefix: "8.8.8.0/24", hosting: false, anonymizer: false },
    });
  });

  it("refuses a missing list and a bad cache size at start", async () => {
    await expect(
      createDatabaseEnricher({ cityDb: false, asn: false, reputationDir: "/nonexistent/lists" }),
    ).rejects.toMatchObject({
      code: "CONFIG_INVALID",
    });
    await expect(createDatabaseEnricher({ cityDb: false, asn: false, cacheSize: -5 })).rejects.toBeInstanceOf(
      SignalboxError,
    );
  });
});

describe("reputation and anonymiser lists", () => {
  let dir = "";
  let repDir = "";
  let anonFile = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "signalbox-enrich-"));
    repDir = join(dir, "reputation");
    anonFile = join(dir, "anonymizers.cidr");
    await mkdir(repDir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("matches lists, reloads a rewritten file, and skips bad lines with file:line", async () => {
    await writeFile(join(repDir, "abuse.cidr"), "# abuse feed\n192.0.2.0/28\n2001:db8:bad::/48\n");
    await writeFile(join(repDir, "stuffing.cidr"), "192.0.2.5\n");
    await writeFile(anonFile, "198.51.100.0/24\n");
    const enricher = await createDatabaseEnricher({
      cityDb: false,
      asn: false,
      reputationDir: repDir,
      anonymizersFile: anonFile,
    });
    expect(enricher.enrich(request({ ip: "192.0.2.5" })).reputation).toEqual({
      listed: true,
      lists: ["abuse", "stuffing"],
    });
    expect(enricher.enrich(request({ ip: "2001:db8:bad:1::9" })).reputation).toEqual({
      listed: true,
      lists: ["abuse"],
    });
    expect(enricher.enrich(request({ ip: "192.0.2.77" })).reputation).toEqual({ listed: false, lists: [] });
    expect(enricher.enrich(request({ ip: "198.51.100.3" })).network?.anonymizer).toBe(true);

    await writeFile(join(repDir, "abuse.cidr"), "192.0.2.64/26\nnot-a-block\n10.0.0.0/33\n");
    await rm(join(repDir, "stuffing.cidr"));
    await writeFile(anonFile, "203.0.113.0/24\n");
    const report = await enricher.reload();

    expect(report.problems.map((p) => `${p.position?.file}:${p.position?.line}`)).toEqual([
      `${join(repDir, "abuse.cidr")}:2`,
      `${join(repDir, "abuse.cidr")}:3`,
    ]);
    expect(report.lists.find((l) => l.name === "abuse")?.entries).toBe(1);
    expect(enricher.listReport).toBe(report);
    // The cached answer for 192.0.2.5 must not survive the reload.
    expect(enricher.enrich(request({ ip: "192.0.2.5" })).reputation).toEqual({ listed: false, lists: [] });
    expect(enricher.enrich(request({ ip: "192.0.2.77" })).reputation).toEqual({ listed: true, lists: ["abuse"] });
    expect(enricher.enrich(request({ ip: "198.51.100.3" })).network?.anonymizer).toBe(false);
    expect(enricher.enrich(request({ ip: "203.0.113.3" })).network?.anonymizer).toBe(true);
    enricher.close();
  });

  it("shares one follow-up reload among calls made during a reload", async () => {
    await writeFile(join(repDir, "abuse.cidr"), "192.0.2.0/24\n");
    const enricher = await createDatabaseEnricher({ cityDb: false, asn: false, reputationDir: repDir });
    const first = enricher.reload();
    const second = enricher.reload();
    const third = enricher.reload();
    expect(second).toBe(third);
    expect(second).not.toBe(first);
    await Promise.all([first, second, third]);
    expect(enricher.enrich(request({ ip: "192.0.2.1" })).reputation?.listed).toBe(true);
  });

  it("reloads by itself when a watched file is replaced", async () => {
    await writeFile(join(repDir, "abuse.cidr"), "192.0.2.0/28\n");
    const reports: ListReport[] = [];
    const enricher = await createDatabaseEnricher({
      cityDb: false,
      asn: false,
      reputationDir: repDir,
      anonymizersFile: anonFile,
      watch: true,
      watchDebounceMs: 20,
      onReload: (r) => reports.push(r),
    });
    try {
      expect(enricher.enrich(request({ ip: "192.0.2.200" })).reputation?.listed).toBe(false);
      // Replace by rename, the way the docs tell operators to deploy lists.
      const staged = join(dir, "staged.tmp");
      await writeFile(staged, "192.0.2.192/26\n");
      await rename(staged, join(repDir, "abuse.cidr"));
      await vi.waitFor(() => expect(enricher.enrich(request({ ip: "192.0.2.200" })).reputation?.listed).toBe(true), {
        timeout: 10_000,
        interval: 20,
      });
      expect(reports.length).toBeGreaterThan(0);

      await writeFile(join(repDir, "new-feed.cidr"), "192.0.2.7\n");
      await vi.waitFor(
        () => expect(enricher.enrich(request({ ip: "192.0.2.7" })).reputation?.lists).toEqual(["new-feed"]),
        { timeout: 10_000, interval: 20 },
      );

      await writeFile(anonFile, "192.0.2.99\n");
      await vi.waitFor(() => expect(enricher.enrich(request({ ip: "192.0.2.99" })).network?.anonymizer).toBe(true), {
        timeout: 10_000,
        interval: 20,
      });
    } finally {
      enricher.close();
    }
  });
});
