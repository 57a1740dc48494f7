/** Shutdown with a drain window: health checks fail first while requests are still answered, then the listener closes. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startService } from "../../src/runtime/start-service.js";
import { testConfig } from "./support.js";

const dir = mkdtempSync(join(tmpdir(), "signalbox-drain-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const login = {
  subject: { type: "user", id: "drain@example.com" },
  action: { name: "login" },
  resource: { type: "application", id: "portal" },
};

describe("shutdown with --drain-ms", () => {
  it("answers /healthz and /readyz with 503 and still decides during the window, then stops listening", async () => {
    const service = await startService(testConfig({ port: 0, dataDir: dir, drainMs: 600 }), { watch: false });
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    const started = Date.now();
    const closed = service.close();

    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "draining" });
    const health = await fetch(`${service.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: "draining" });
    const decided = await fetch(`${service.url}/access/v1/evaluation`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(login),
    });
    expect(decided.status).toBe(200);
    expect(await decided.json()).toMatchObject({ decision: expect.any(Boolean) });

    await closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    await expect(fetch(`${service.url}/readyz`)).rejects.toThrow();
  });
});
