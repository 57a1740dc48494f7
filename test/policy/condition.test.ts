import { describe, expect, it } from "vitest";
import { cidrContains, globMatch } from "../../src/policy/cel-functions.js";
import type { ConditionVars } from "../../src/policy/compiled.js";
import { compileCondition } from "../../src/policy/condition.js";

const BASE: ConditionVars = {
  subject: { type: "user", id: "u1" },
  action: { name: "read" },
  resource: { type: "doc", id: "/todos/7" },
  context: { ip: "10.1.2.3", transaction: { amount: 1500 } },
  entities: {},
  enrichment: { geo: { country: "DE", source: "pep" }, network: { hosting: false, anonymizer: false } },
};

function run(source: string, vars: Partial<ConditionVars> = {}, scope: "request" | "rule" = "request") {
  const compiled = compileCondition(source, scope);
  if (!compiled.condition) throw new Error(`does not compile: ${compiled.problem.message}`);
  return compiled.condition.evaluate({ ...BASE, ...vars });
}

describe("conditions", () => {
  it("compare JSON numbers (doubles) with integer literals", () => {
    expect(run("context.transaction.amount > 1000").value).toBe(true);
    expect(run("context.transaction.amount > 2000").value).toBe(false);
    expect(run("score >= 30", { score: 30 }, "rule").value).toBe(true);
    expect(run("score >= 30", { score: 29.9 }, "rule").value).toBe(false);
    expect(run("score >= 30.0 && score < 31", { score: 30.5 }, "rule").value).toBe(true);
  });

  it("are false, with the error reported, when a key is missing or a type is wrong", () => {
    const missing = run("context.session.acr == 'mfa'");
    expect(missing.value).toBe(false);
    expect(missing.error).toMatch(/session/);
    const wrongType = run("subject.id > 3");
    expect(wrongType.value).toBe(false);
    expect(wrongType.error).toBeDefined();
  });

  it("are false with an error when the result is not a bool at run time", () => {
    const r = run("subject.id", {});
    expect(r.value).toBe(false);
    expect(r.error).toContain("not a bool");
  });

  it("see absent properties and context as empty maps", () => {
    expect(run("size(subject.properties) == 0 && !has(action.properties.privileged)").value).toBe(true);
    expect(run("size(context) == 0", { context: undefined }).value).toBe(true);
    expect(
      run("action.properties.privileged == true", { action: { name: "x", properties: { privileged: true } } }).value,
    ).toBe(true);
  });

  it("read enrichment facts", () => {
    expect(run('enrichment.geo.country == "DE" && !enrichment.network.hosting').value).toBe(true);
  });

  it("give rules findings, band, segment and errors", () => {
    const vars = {
      findings: {
        impossible_travel: {
          severity: "critical",
          points: 80,
          contribution: 80,
          code: "x",
          message: "m",
          evidence: {},
        },
      },
      band: "critical",
      segment: "people",
      errors: ["new_device"],
    };
    expect(run('findings.impossible_travel.severity == "critical" && "new_device" in errors', vars, "rule").value).toBe(
      true,
    );
    expect(run("has(findings.new_device)", vars, "rule").value).toBe(false);
  });

  it("offer cidr_contains and glob", () => {
    expect(run('cidr_contains("10.0.0.0/8", context.ip)').value).toBe(true);
    expect(run('cidr_contains("192.168.0.0/16", context.ip)').value).toBe(false);
    expect(run('glob(resource.id, "/todos/*")').value).toBe(true);
    expect(run('glob(resource.id, "/users/*")').value).toBe(false);
    const bad = run('cidr_contains("nonsense", context.ip)');
    expect(bad).toEqual({ value: false, error: expect.stringContaining('"nonsense" is not a cidr block') });
  });
});

describe("custom functions", () => {
  it("cidr_contains handles both families and prefixes", () => {
    expect(cidrContains("2001:db8::/32", "2001:db8::1")).toBe(true);
    expect(cidrContains("2001:db8::/32", "10.0.0.1")).toBe(false);
    expect(cidrContains("10.0.0.1", "10.0.0.1")).toBe(true);
    expect(cidrContains("10.0.0.0/31", "10.0.0.2")).toBe(false);
    expect(() => cidrContains("10.0.0.0/33", "10.0.0.1")).toThrow(/prefix/);
    expect(() => cidrContains("10.0.0.0/8", "not-an-ip")).toThrow(/not an ip/);
  });

  it("glob keeps * inside a segment and lets ** cross", () => {
    expect(globMatch("/todos/{todoId}", "/todos/*")).toBe(true);
    expect(globMatch("/todos/1/items", "/todos/*")).toBe(false);
    expect(globMatch("/todos/1/items", "/todos/**")).toBe(true);
    expect(globMatch("/a.b", "/a?b")).toBe(true);
    expect(globMatch("/axb", "/a.b")).toBe(false);
  });
});
