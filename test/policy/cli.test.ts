import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { registerPolicyCommands } from "../../src/cli/commands/policy.js";

const REPO = new URL("../../", import.meta.url).pathname;

async function cli(args: string[]): Promise<{ out: string[]; err: string[]; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command().exitOverride();
  registerPolicyCommands(program, { out: (s) => out.push(s), err: (s) => err.push(s) });
  process.exitCode = 0;
  await program.parseAsync(args, { from: "user" });
  const code = typeof process.exitCode === "number" ? process.exitCode : 0;
  process.exitCode = 0;
  return { out, err, code };
}

afterEach(() => {
  process.exitCode = 0;
});

describe("signalbox policy check", () => {
  it("prints a one-line summary and exits 0 for a clean policy", async () => {
    const r = await cli(["policy", "check", join(REPO, "policies/default.yaml")]);
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    expect(r.out).toHaveLength(1);
    expect(r.out[0]).toMatch(/default\.yaml: ok \(policy "default" revision "[^"]+", 7 segments\)$/);
  });

  it("prints every problem as file:line:col: message and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "signalbox-policy-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      `signalbox: policy/v1
id: bad
revision: "1"
segments:
  - name: all
    ladder: [{ at: 0, path: alow }]
    on_eror: deny
`,
    );
    const r = await cli(["policy", "check", file]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      `${file}:5:5: segment "all": missing required key "on_error"`,
      `${file}:6:29: segment "all": ladder[0].path: unknown control path "alow" (did you mean "allow"?)`,
      `${file}:7:5: segment "all": unknown key "on_eror" (did you mean "on_error"?)`,
      `${file}: 3 problems`,
    ]);
  });

  it("exits 1 when the file cannot be read", async () => {
    const r = await cli(["policy", "check", "/nonexistent/policy.yaml"]);
    expect(r.code).toBe(1);
    expect(r.err[0]).toContain("cannot read the policy");
  });
});

describe("signalbox policy test", () => {
  it("runs test files and exits 0 when every case passes", async () => {
    const r = await cli(["policy", "test", join(REPO, "examples/authzen-todo/policy.test.yaml")]);
    expect(r.code).toBe(0);
    expect(r.out.at(-1)).toBe("5 passed, 0 failed");
    expect(r.out.filter((l) => l.startsWith("pass  "))).toHaveLength(5);
  });

  it("prints the differences of a failing case and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "signalbox-policy-"));
    const file = join(dir, "wrong.test.yaml");
    writeFileSync(
      file,
      `policy: ${join(REPO, "examples/authzen-todo/policy.yaml")}
cases:
  - name: wrong on purpose
    request: { subject: { type: user, id: nobody }, action: { name: can_create_todo }, resource: { type: todo, id: t } }
    expect: { path: allow, decision: true }
`,
    );
    const r = await cli(["policy", "test", file]);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([
      `FAIL  wrong on purpose  (${file}:3)`,
      "        path: expected allow, got deny",
      "        decision: expected true, got false",
      "0 passed, 1 failed",
    ]);
  });
});
