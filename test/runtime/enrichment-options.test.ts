import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { createDatabaseEnricher, SHIPPED_LISTS } from "../../src/enrich/database-enricher.js";
import type { AccessRequest } from "../../src/model/request.js";
import { enricherOptionsOf } from "../../src/runtime/enricher-options.js";
import { openRuntime } from "../../src/runtime/open-runtime.js";

interface LogLine {
  level: number;
  msg: string;
  problems?: string[];
}

function capturingLogger() {
  const lines: LogLine[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

async function until(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
  return check();
}

const request = (ip: string): AccessRequest => ({
  subject: { type: "user", id: "dave@example.com" },
  action: { name: "login" },
  resource: { type: "application", id: "portal" },
  context: { ip, authn: { result: "success", method: "password" } },
});

let dir: string;
let anonymizers: string;
let asns: string;
let reputation: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "signalbox-runtime-lists-"));
  anonymizers = join(dir, "anonymizers.cidr");
  asns = join(dir, "hosting.txt");
  reputation = join(dir, "reputation");
  writeFileSync(anonymizers, "198.51.100.0/24\n");
  writeFileSync(asns, "AS64500\n");
  mkdirSync(reputation);
  writeFileSync(join(reputation, "abuse-feed.cidr"), "192.0.2.0/24\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("enrichment options from the configuration", () => {
  it("uses the shipped lists by default, the configured ones otherwise, and off for none", () => {
    const defaults = enricherOptionsOf(loadConfig().lists, { watch: false });
    expect(defaults).toMatchObject({
      hostingAsnsFile: SHIPPED_LISTS.hostingAsnsFile,
      anonymizersFile: SHIPPED_LISTS.anonymizersFile,
      reputationDir: SHIPPED_LISTS.reputationDir,
      watch: false,
    });
    const lists = loadConfig({
      flags: { hostingAsns: "off", anonymizers: anonymizers, reputationDir: "off" },
    }).lists;
    const configured = enricherOptionsOf(lists, { watch: true });
    expect(configured).toMatchObject({ hostingAsnsFile: false, anonymizersFile: anonymizers, watch: true });
    expect(configured).not.toHaveProperty("reputationDir");
  });

  it("watches the lists and logs a reload's skipped lines as warnings", async () => {
    const { logger, lines } = capturingLogger();
    const lists = loadConfig({ flags: { hostingAsns: asns, anonymizers, reputationDir: reputation } }).lists;
    const enricher = await createDatabaseEnricher({
      ...enricherOptionsOf(lists, { watch: true, logger }),
      // the list wiring is what is under test; the geo and ASN databases are slow to load
      cityDb: false,
      asn: false,
    });
    try {
      expect(enricher.enrich(request("198.51.100.9")).network?.anonymizer).toBe(true);
      expect(enricher.enrich(request("192.0.2.10")).reputation).toEqual({ listed: true, lists: ["abuse-feed"] });
      appendFileSync(anonymizers, "203.0.113.0/24\nnot-a-block\n");
      const warned = await until(() => lines.some((l) => l.level === 40));
      expect(warned).toBe(true);
      const warning = lines.find((l) => l.level === 40);
      expect(warning?.msg).toBe("network lists reloaded: some list lines or files were skipped");
      expect(warning?.problems).toEqual([`${anonymizers}:3:1: not a CIDR block: "not-a-block"`]);
      // the good line of the same reload is in force
      expect(enricher.enrich(request("203.0.113.77")).network?.anonymizer).toBe(true);
    } finally {
      enricher.close();
    }
  });

  it("opens the databases with the configured lists in the runtime", async () => {
    const { logger, lines } = capturingLogger();
    const clean = join(dir, "runtime-anonymizers.cidr");
    writeFileSync(clean, "198.51.100.0/24\n");
    const config = loadConfig({
      flags: { state: "memory:", audit: "memory:", dataDir: dir, anonymizers: clean, reputationDir: reputation },
    });
    const runtime = await openRuntime(config, { logger });
    try {
      const decision = await runtime.engine.decide(request("198.51.100.9"));
      expect(decision.findings.map((f) => f.detector)).toContain("anonymizing_network");
      const listed = await runtime.engine.decide(request("192.0.2.10"));
      expect(listed.findings.map((f) => f.detector)).toContain("ip_reputation");
      const loaded = lines.find((l) => l.msg === "network lists loaded");
      expect(loaded, JSON.stringify(lines.map((l) => l.msg))).toBeDefined();
      expect(lines.some((l) => l.level >= 40)).toBe(false);
    } finally {
      await runtime.close();
    }
  }, 60_000);
});
