/** Golden cases: every `test/golden/*.yaml` file runs in-process against its policy (the default when it names none). */

import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY_FILE, loadPolicy } from "../../src/policy/load.js";
import { loadTestFile, runCase } from "../../src/policy-tests/test-cases.js";

const DIR = new URL("./", import.meta.url).pathname;
const FILES = readdirSync(DIR).filter((f) => f.endsWith(".yaml"));

describe("golden cases", () => {
  it("exist", () => expect(FILES.length).toBeGreaterThan(0));
  for (const name of FILES) {
    describe(name, async () => {
      const suite = await loadTestFile(DIR + name);
      const policy = await loadPolicy(suite.policy ?? DEFAULT_POLICY_FILE);
      for (const tc of suite.cases) {
        it(tc.name, async () => {
          const r = await runCase(policy, tc, suite.file);
          expect(r.failures, `${name}:${tc.line}`).toEqual([]);
        });
      }
    });
  }
});
