import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, type ServeConfig } from "../../src/config/serve-config.js";
import { type RunningService, startService } from "../../src/runtime/start-service.js";
import {
  AUTHZEN_DIR,
  AUTHZEN_FILES,
  type ConformanceCase,
  certificationCases,
  conformanceDataPresent,
  interopCases,
  pagedSearchCase,
  searchInteropCases,
} from "./runner.js";

const EXAMPLES = resolve(import.meta.dirname, "..", "..", "examples");
const present = conformanceDataPresent();
if (!present) {
  if (process.env.CI === "true") throw new Error(`AuthZEN conformance data missing at ${AUTHZEN_DIR}`);
  console.warn(`SKIPPING AuthZEN HTTP conformance: no case files at ${AUTHZEN_DIR} (clone shared/ beside the repo)`);
}

/** A server as `signalbox serve` would run it, on a free loopback port, with the given example policy. */
function suite(title: string, policy: string, cases: () => ConformanceCase[], overrides: Partial<ServeConfig> = {}) {
  describe.skipIf(!present)(title, () => {
    let service: RunningService;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "signalbox-conformance-"));
      service = await startService(
        {
          ...DEFAULT_CONFIG,
          port: 0,
          dataDir: dir,
          policy: join(EXAMPLES, policy),
          state: "memory:",
          audit: "memory:",
          enrichment: "pep",
          logLevel: "silent",
          ...overrides,
        },
        { watch: false },
      );
    });
    afterAll(async () => {
      await service?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
    for (const c of present ? cases() : []) {
      it(c.name, async () => {
        expect(await c.run(service.url)).toBeUndefined();
      });
    }
  });
}

// the official Todo runner compares batches as exact strings, so this server answers minimal batches
suite(
  "AuthZEN Todo 1.0-02 (evaluation and exact batches)",
  "authzen-todo/policy.yaml",
  () => interopCases(AUTHZEN_FILES.todo02, "todo-02", true),
  { minimalBatch: true },
);
suite("AuthZEN Todo 1.0-01 (unknown members ignored)", "authzen-todo/policy.yaml", () =>
  interopCases(AUTHZEN_FILES.todo01, "todo-01", false),
);
suite("AuthZEN API gateway", "authzen-gateway/policy.yaml", () =>
  interopCases(AUTHZEN_FILES.gateway, "gateway", false),
);
suite(
  "AuthZEN certification scenario (decisions, errors, batches, search, headers, discovery)",
  "authzen-certification/policy.yaml",
  certificationCases,
  {
    trustProxy: true,
  },
);
/** Every search case of the interop files, plus a check that none went missing on the way. */
function searchSuiteCases(): ConformanceCase[] {
  const files = [
    searchInteropCases(AUTHZEN_FILES.searchSubject, "subject search", "subject"),
    searchInteropCases(AUTHZEN_FILES.searchResource, "resource search", "resource"),
    searchInteropCases(AUTHZEN_FILES.searchAction, "action search", "action"),
    searchInteropCases(AUTHZEN_FILES.idp, "IdP resource search", "resource"),
  ];
  const counts = files.map((f) => f.length);
  const count: ConformanceCase = {
    name: "the search files hold 60, 18, 120 and 6 cases",
    async run() {
      return JSON.stringify(counts) === "[60,18,120,6]" ? undefined : `counts ${JSON.stringify(counts)}`;
    },
  };
  return [count, ...files.flat()];
}

suite("AuthZEN search interop (subject 60, resource 18, action 120) and IdP (6)", "authzen-search/policy.yaml", () => [
  ...searchSuiteCases(),
  pagedSearchCase("subject search pages add up", "subject", {
    subject: { type: "user" },
    action: { name: "view" },
    resource: { type: "record", id: "101" },
  }),
  pagedSearchCase("resource search pages add up", "resource", {
    subject: { type: "user", id: "dan" },
    action: { name: "edit" },
    resource: { type: "record" },
  }),
  pagedSearchCase("action search pages add up", "action", {
    subject: { type: "user", id: "alice" },
    resource: { type: "record", id: "101" },
  }),
]);
