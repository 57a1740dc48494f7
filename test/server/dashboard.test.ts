import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, testApp } from "./support.js";

describe("deploy/grafana-dashboard.json", () => {
  it("queries only metrics the service exposes", async () => {
    const dashboard = readFileSync(join(REPO_ROOT, "deploy/grafana-dashboard.json"), "utf8");
    const used = new Set(
      [...dashboard.matchAll(/\bsignalbox_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, "")),
    );
    expect(used.size).toBeGreaterThan(8);
    const t = await testApp();
    try {
      const app = (await import("../../src/server/app.js")).buildApp({
        runtime: t.runtime,
        config: (await import("./support.js")).testConfig(),
        logger: false,
      });
      const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
      await app.close();
      const exposed = new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
      for (const name of used) expect(exposed, name).toContain(name);
    } finally {
      await t.close();
    }
  });
});
