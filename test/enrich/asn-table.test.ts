/** Loading ASN range CSVs: quoting, overlaps, ordering errors with positions, and lookups. */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AsnTable } from "../../src/enrich/asn-table.js";
import { CityDatabase } from "../../src/enrich/city-database.js";
import { type IpAddress, parseIp } from "../../src/enrich/ip-address.js";

function ip(text: string): IpAddress {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`test address "${text}" must parse`);
  return parsed;
}

describe("AsnTable.load", () => {
  let dir = "";
  let v6 = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "signalbox-asn-"));
    v6 = join(dir, "v6.csv");
    await writeFile(
      v6,
      "2001:db8::,2001:db8:0:ffff:ffff:ffff:ffff:ffff,64500,Example Six\n" +
        '2001:db8:1::,2001:db8:1:ffff:ffff:ffff:ffff:ffff,64501,"Six, ""Quoted"" Ltd"\n',
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads quoted organisations, clips overlaps and answers both families", async () => {
    const v4 = join(dir, "v4.csv");
    await writeFile(
      v4,
      "# comment\n" +
        '192.0.2.0,192.0.2.127,64496,"Example, ""Inc."""\n' +
        "192.0.2.100,192.0.2.255,64497,Later Row\r\n" +
        "198.51.100.0,198.51.100.255,64498,Example Two\n",
    );
    const table = await AsnTable.load({ ipv4: v4, ipv6: v6 });
    expect(table.stats).toMatchObject({ ipv4Ranges: 3, ipv6Ranges: 2, organisations: 5, overlapsClipped: 1 });
    expect(table.lookup(ip("192.0.2.0"))).toEqual({ asn: 64496, org: 'Example, "Inc."' });
    expect(table.lookup(ip("192.0.2.99"))?.asn).toBe(64496);
    expect(table.lookup(ip("192.0.2.100"))).toEqual({ asn: 64497, org: "Later Row" });
    expect(table.lookup(ip("198.51.100.255"))?.asn).toBe(64498);
    expect(table.lookup(ip("198.51.101.0"))).toBeUndefined();
    expect(table.lookup(ip("2001:db8:0:1::1"))).toEqual({ asn: 64500, org: "Example Six" });
    expect(table.lookup(ip("2001:db8:1::5"))).toEqual({ asn: 64501, org: 'Six, "Quoted" Ltd' });
    expect(table.lookup(ip("2001:db8:2::"))).toBeUndefined();
  });

  it("refuses unsorted rows and bad rows, naming file and line", async () => {
    const unsorted = join(dir, "unsorted.csv");
    await writeFile(unsorted, "198.51.100.0,198.51.100.255,1,A\n192.0.2.0,192.0.2.255,2,B\n");
    await expect(AsnTable.load({ ipv4: unsorted, ipv6: v6 })).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      problems: [{ position: { file: unsorted, line: 2 } }],
    });
    const bad = join(dir, "bad.csv");
    await writeFile(bad, "192.0.2.0,192.0.2.255,1,A\n192.0.3.0,192.0.2.255,2,B\n");
    await expect(AsnTable.load({ ipv4: bad, ipv6: v6 })).rejects.toThrow(
      /bad IPv4 range in ASN table ".*bad\.csv" at line 2/,
    );
    await expect(AsnTable.load({ ipv4: join(dir, "missing.csv"), ipv6: v6 })).rejects.toMatchObject({
      code: "CONFIG_INVALID",
    });
  });
});

describe("CityDatabase.open", () => {
  it("refuses a missing or malformed database", async () => {
    const dir = await mkdtemp(join(tmpdir(), "signalbox-city-"));
    try {
      const junk = join(dir, "junk.mmdb");
      await writeFile(junk, "not an mmdb");
      await expect(CityDatabase.open({ ipv4: junk, ipv6: junk })).rejects.toMatchObject({ code: "CONFIG_INVALID" });
      await expect(CityDatabase.open({ ipv4: join(dir, "none"), ipv6: junk })).rejects.toMatchObject({
        code: "CONFIG_INVALID",
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
