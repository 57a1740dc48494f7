/** List file formats, bad-line reporting, and the shipped data files. */

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CidrMatcher } from "../../src/enrich/cidr.js";
import { SHIPPED_LISTS } from "../../src/enrich/database-enricher.js";
import { parseAsnList, parseCidrList } from "../../src/enrich/list-files.js";
import { loadNetworkLists } from "../../src/enrich/network-lists.js";

describe("parseAsnList", () => {
  it("reads AS numbers with or without the AS prefix and skips comments", () => {
    const text = "# header\n16509 # Amazon\nAS8075\n\n  as14061  \n";
    expect(parseAsnList("hosting.txt", text)).toEqual({ entries: [16509, 8075, 14061], problems: [] });
  });

  it("reports a bad line with its file and line and keeps the rest", () => {
    const result = parseAsnList("hosting.txt", "16509\nAmazon\n99999999999\n8075\n");
    expect(result.entries).toEqual([16509, 8075]);
    expect(result.problems.map((p) => [p.position?.file, p.position?.line])).toEqual([
      ["hosting.txt", 2],
      ["hosting.txt", 3],
    ]);
    expect(result.problems[0]?.message).toBe('not an AS number: "Amazon"');
  });
});

describe("parseCidrList", () => {
  it("reads blocks and bare addresses, with trailing comments and CRLF line ends", () => {
    const result = parseCidrList("l.cidr", "10.0.0.0/8 # private\r\n2001:db8::1\r\n# only a comment\r\n");
    expect(result.problems).toEqual([]);
    expect(result.entries).toHaveLength(2);
  });

  it("reports each bad line with file:line", () => {
    const result = parseCidrList("l.cidr", "10.0.0.0/8\n10.0.0.0/99\nhello\n192.0.2.1\n");
    expect(result.entries).toHaveLength(2);
    expect(result.problems.map((p) => `${p.position?.file}:${p.position?.line}`)).toEqual(["l.cidr:2", "l.cidr:3"]);
  });
});

describe("shipped lists", () => {
  it("load without a single bad line", async () => {
    const { lists, report } = await loadNetworkLists(SHIPPED_LISTS);
    expect(report.problems).toEqual([]);
    expect(lists.hostingAsns.has(16509)).toBe(true);
    expect(lists.hostingAsns.has(14061)).toBe(true);
    expect(lists.hostingAsns.size).toBeGreaterThan(40);
    expect(report.lists.map((l) => l.name)).toEqual(["hosting-asns", "anonymizers", "example-blocklist"]);
  });

  it("contain documentation ranges only, so the examples flag nothing real", async () => {
    const { lists } = await loadNetworkLists(SHIPPED_LISTS);
    const documentation = CidrMatcher.of(["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"]);
    const probes = ["8.8.8.8", "1.1.1.1", "192.0.2.130", "198.51.100.77", "203.0.113.201", "2001:db8:bad::1"];
    for (const probe of probes) {
      const flagged =
        lists.anonymizers.containsText(probe) || lists.reputation.some((l) => l.matcher.containsText(probe));
      if (flagged) expect(documentation.containsText(probe), probe).toBe(true);
    }
    expect(lists.anonymizers.containsText("198.51.100.77")).toBe(true);
    expect(lists.reputation[0]?.matcher.containsText("203.0.113.201")).toBe(true);
    // The contract's example address must stay clean.
    expect(lists.reputation[0]?.matcher.containsText("203.0.113.7")).toBe(false);
  });
});

describe("loadNetworkLists", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "signalbox-lists-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps the previous generation of a list whose file became unreadable", async () => {
    const file = join(dir, "anon.cidr");
    await writeFile(file, "192.0.2.0/24\n");
    const first = await loadNetworkLists({ anonymizersFile: file });
    await rm(file);
    const second = await loadNetworkLists({ anonymizersFile: file }, first.lists);
    expect(second.report.unreadable).toEqual([file]);
    expect(second.report.problems[0]?.message).toContain("ENOENT");
    expect(second.lists.anonymizers.containsText("192.0.2.9")).toBe(true);
  });

  it("ignores hidden and non-.cidr files in the reputation directory", async () => {
    const rep = join(dir, "rep");
    await rm(rep, { recursive: true, force: true });
    await mkdir(rep);
    await writeFile(join(rep, "abuse.cidr"), "192.0.2.1\n");
    await writeFile(join(rep, ".abuse.cidr.swp"), "192.0.2.2\n");
    await writeFile(join(rep, "notes.txt"), "192.0.2.3\n");
    const { lists } = await loadNetworkLists({ reputationDir: rep });
    expect(lists.reputation.map((l) => l.name)).toEqual(["abuse"]);
  });
});
