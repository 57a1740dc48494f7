/** `openAuditTrail` URL handling and the `signalbox audit` commands against a real SQLite trail. */

import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChainedAuditTrail } from "../../src/audit/chained-trail.js";
import { openAuditTrail, redactUrl } from "../../src/audit/open-audit.js";
import { AUDIT_OFF } from "../../src/audit/port.js";
import { registerAuditCommands } from "../../src/cli/commands/audit.js";
import { decisionId, makeEntry, T0 } from "./fixtures.js";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "signalbox-audit-cli-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  process.exitCode = undefined;
});

async function cli(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command().exitOverride();
  registerAuditCommands(program, { out: (s) => out.push(s), err: (s) => err.push(s) });
  process.exitCode = undefined;
  await program.parseAsync(args, { from: "user" });
  const code = typeof process.exitCode === "number" ? process.exitCode : 0;
  process.exitCode = undefined;
  return { code, out, err };
}

describe("openAuditTrail", () => {
  it("opens SQLite under the data dir by default and keeps the writer id", async () => {
    const first = await openAuditTrail(undefined, dir);
    expect(first).toBeInstanceOf(ChainedAuditTrail);
    expect(first.kind).toBe("sqlite");
    const writer = (first as ChainedAuditTrail).writerId;
    await first.recordDecision(makeEntry({ n: 1 }));
    await first.close();
    const second = (await openAuditTrail("sqlite:", dir)) as ChainedAuditTrail;
    expect(second.writerId).toBe(writer);
    expect((await second.getDecision(decisionId(1)))?.entry.decision.id).toBe(decisionId(1));
    await second.close();
  });

  it("returns the disabled trail for off", async () => {
    expect(await openAuditTrail("off", dir)).toBe(AUDIT_OFF);
  });

  it("rejects an unknown URL without showing its password", async () => {
    const err = await openAuditTrail("mysql://admin:hunter2@db/audit", dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFIG_INVALID" });
    expect(String((err as Error).message)).not.toContain("hunter2");
    expect(String((err as Error).message)).toContain("admin:****@db");
    expect(redactUrl("postgresql://u:p@h:5432/d")).toBe("postgresql://u:****@h:5432/d");
  });

  it("reports an unreachable PostgreSQL as AUDIT_UNAVAILABLE, password masked", async () => {
    const err = await openAuditTrail("postgresql://postgres:secret@127.0.0.1:1/test", dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "AUDIT_UNAVAILABLE" });
    expect(String((err as Error).message)).not.toContain("secret");
  });
});

describe("signalbox audit", () => {
  async function seed(keyFile?: string): Promise<void> {
    const trail = await openAuditTrail(undefined, dir, keyFile ? { checkpoints: { every: 3, keyFile } } : {});
    for (let n = 1; n <= 5; n++) await trail.recordDecision(makeEntry({ n, path: n % 2 === 0 ? "deny" : "allow" }));
    await trail.close();
  }

  it("verify succeeds on an intact trail and names the first broken link after tampering", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const keyFile = join(dir, "checkpoint.key");
    const pubFile = join(dir, "checkpoint.pub");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));
    writeFileSync(pubFile, JSON.stringify(publicKey.export({ format: "jwk" })));
    // Five decisions, a checkpoint after the third, and one more when the trail closes.
    await seed(keyFile);

    const ok = await cli("audit", "verify", "--data-dir", dir, "--public-key", pubFile);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out[0] ?? "")).toMatchObject({ ok: true, checked: 7, unanchored: 0 });

    const db = new Database(join(dir, "audit.db"));
    db.prepare("DELETE FROM audit_records WHERE seq = 2").run();
    db.close();
    const broken = await cli("audit", "verify", "--data-dir", dir);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.out[0] ?? "").firstBroken).toMatchObject({ seq: 2, problem: "deleted" });
    expect(broken.err.join("\n")).toContain("deleted at seq 2");
  });

  it("query prints matching records as JSON lines with a cursor for more", async () => {
    await seed();
    const deny = await cli("audit", "query", "--data-dir", dir, "--control-path", "deny");
    expect(deny.out.map((l) => JSON.parse(l).decision_id)).toEqual([decisionId(2), decisionId(4)]);
    const paged = await cli("audit", "query", "--data-dir", dir, "--limit", "2");
    expect(paged.out).toHaveLength(2);
    const cursor = paged.err.join("").replace("more: --cursor ", "");
    const rest = await cli("audit", "query", "--data-dir", dir, "--limit", "10", "--cursor", cursor);
    expect(rest.out.map((l) => JSON.parse(l).seq)).toEqual([3, 4, 5]);
    await expect(cli("audit", "query", "--data-dir", dir, "--control-path", "maybe")).rejects.toMatchObject({
      code: "CONFIG_INVALID",
    });
  });

  it("export writes JSON lines or OCSF events to a file", async () => {
    await seed();
    const out = join(dir, "export.ocsf.jsonl");
    const res = await cli("audit", "export", "--data-dir", dir, "--format", "ocsf", "--out", out);
    expect(res.code).toBe(0);
    const events = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.class_uid === 6003)).toHaveLength(5);
    expect(events.filter((e) => e.class_uid === 2004)).toHaveLength(5);
    expect(res.err.join("")).toContain("exported 5 records as 10 ocsf lines");
    const jsonl = await cli("audit", "export", "--data-dir", dir, "--format", "jsonl", "--subject", "user:u1");
    expect(jsonl.out.map((l) => JSON.parse(l).decision_id)).toEqual([decisionId(1), decisionId(4)]);
  });

  it("exports outcomes as OCSF events mapped against their decisions", async () => {
    const trail = await openAuditTrail(undefined, dir);
    await trail.recordDecision(makeEntry({ n: 1, path: "step_up" }));
    await trail.recordDecision(makeEntry({ n: 2, path: "hold" }));
    await trail.recordDecision(makeEntry({ n: 3, path: "deny" }));
    await trail.recordOutcome({ decisionId: decisionId(1), outcome: "step_up_passed", wallTime: T0 + 10_000 });
    await trail.recordOutcome({ decisionId: decisionId(2), outcome: "rejected", wallTime: T0 + 11_000 });
    await trail.recordOutcome({ decisionId: decisionId(3), outcome: "false_positive", wallTime: T0 + 12_000 });
    // An outcome whose decision is not in this trail has nothing to be mapped against.
    await trail.recordOutcome({ decisionId: decisionId(9), outcome: "approved", wallTime: T0 + 13_000 });
    await trail.close();

    const res = await cli("audit", "export", "--data-dir", dir, "--format", "ocsf", "--kind", "outcome");
    expect(res.code).toBe(0);
    const events = res.out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      events.map((e) => [e.class_uid, e.activity_id, (e.metadata as { correlation_uid: string }).correlation_uid]),
    ).toEqual([
      [3002, 1, decisionId(1)],
      [6003, 2, decisionId(2)],
      [2004, 3, decisionId(3)],
    ]);
    expect(events[1]).toMatchObject({ disposition_id: 25, disposition: "Rejected" });
    expect(res.err.join("\n")).toContain("exported 4 records as 3 ocsf lines");
    expect(res.err.join("\n")).toContain("1 outcomes had no decision left in the trail");
  });

  it("prune deletes old records and the rest still verifies", async () => {
    await seed();
    const res = await cli("audit", "prune", "--data-dir", dir, "--before", "2100-01-01T00:00:00Z");
    expect(res.out[0]).toContain("deleted 5 records");
    expect((await cli("audit", "verify", "--data-dir", dir)).code).toBe(0);
  });
});
