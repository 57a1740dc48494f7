/** Golden cases through the command line: `signalbox policy test` over the same YAML files. */

import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";

const DIR = new URL("./", import.meta.url).pathname;
const FILES = readdirSync(DIR).filter((f) => f.endsWith(".yaml"));

describe("golden cases through `signalbox policy test`", () => {
  for (const name of FILES) {
    it(name, async () => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(["policy", "test", DIR + name], { out: (s) => out.push(s), err: (s) => err.push(s) });
      const summary = out.join("\n").match(/(\d+) passed, (\d+) failed/);
      expect(err.join("\n")).toBe("");
      expect(code).toBe(0);
      expect(summary?.[2]).toBe("0");
      expect(Number(summary?.[1])).toBeGreaterThan(10);
    });
  }
});
