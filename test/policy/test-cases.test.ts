import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/model/decision.js";
import {
  caseSteps,
  compareDecision,
  loadTestFile,
  parseDuration,
  parseTestFile,
  runTestFile,
} from "../../src/policy-tests/test-cases.js";

const TEXT = `policy: ./p.yaml
cases:
  - name: history then request
    time: "2026-11-20T09:00:00Z"
    history:
      - request: { subject: { type: user, id: u }, action: { name: login }, resource: { type: app, id: a } }
        outcome: step_up_passed
        repeat: 3
        advance: 1h
      - request: { subject: { type: user, id: u }, action: { name: read }, resource: { type: app, id: a }, context: { ip: 10.0.0.1 } }
    request: { subject: { type: user, id: u }, action: { name: read }, resource: { type: app, id: a } }
    expect: { path: step_up, decision: false, segment: s, reasons: [new_device], findings: [new_device] }
`;

describe("policy test files", () => {
  it("parse cases and resolve the policy relative to the file", () => {
    const file = parseTestFile(TEXT, "/tests/t.test.yaml");
    expect(file.policy).toBe("/tests/p.yaml");
    expect(file.cases).toHaveLength(1);
    const tc = file.cases[0];
    expect(tc?.line).toBe(3);
    expect(tc?.history[0]).toMatchObject({ outcome: "step_up_passed", repeat: 3, advanceMs: 3_600_000 });
    expect(tc?.expect).toEqual({
      path: "step_up",
      decision: false,
      segment: "s",
      reasons: ["new_device"],
      findings: ["new_device"],
    });
  });

  it("turn a case into timed steps with context.time set", () => {
    const tc = parseTestFile(TEXT, "/t.yaml").cases[0];
    if (!tc) throw new Error("no case");
    const steps = caseSteps(tc);
    expect(steps).toHaveLength(5);
    const t0 = Date.parse("2026-11-20T09:00:00Z");
    expect(steps.map((s) => s.time)).toEqual([t0, t0 + 3_600_000, t0 + 7_200_000, t0 + 10_800_000, t0 + 10_860_000]);
    expect(steps[0]?.outcome).toBe("step_up_passed");
    const context = steps[3]?.request.context as { ip?: string; time?: string } | undefined;
    expect(context?.ip).toBe("10.0.0.1");
    expect(context?.time).toBe("2026-11-20T12:00:00.000Z");
    expect(steps[4]?.expect?.path).toBe("step_up");
    expect(steps[3]?.expect).toBeUndefined();
  });

  it("keep a request's own context.time", () => {
    const tc = parseTestFile(
      `cases:
  - request: { subject: { type: user, id: u }, action: { name: r }, resource: { type: a, id: b }, context: { time: "2026-01-01T00:00:00Z" } }
    expect: { path: allow }
`,
      "/t.yaml",
    ).cases[0];
    if (!tc) throw new Error("no case");
    expect(caseSteps(tc)[0]?.time).toBe(Date.parse("2026-01-01T00:00:00Z"));
  });

  it("report every problem of a malformed file with positions", () => {
    let caught: unknown;
    try {
      parseTestFile(
        `cases:
  - name: a
    request: { subject: {} }
    expect: { path: alow, reasonz: [] }
  - name: b
    history:
      - request: {}
        advance: soon
    expect: { decision: true }
`,
        "t.yaml",
      );
    } catch (err) {
      caught = err;
    }
    const problems = (caught as { problems: { message: string; position?: { line: number } }[] }).problems;
    expect((caught as { code: string }).code).toBe("POLICY_INVALID");
    expect(problems.map((p) => p.position?.line)).toEqual([4, 4, 5, 8, 9]);
    expect(problems.some((p) => p.message.includes('unknown key "reasonz"'))).toBe(true);
    expect(problems.some((p) => p.message.includes('unknown control path "alow"'))).toBe(true);
  });

  it("parse durations", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("15m")).toBe(900_000);
    expect(parseDuration("2d")).toBe(172_800_000);
    expect(parseDuration("soon")).toBeUndefined();
  });

  it("compare a decision with an expectation", () => {
    const decision = {
      controlPath: "step_up",
      decision: false,
      segment: "people",
      reasons: [{ code: "new_device", message: "m" }],
      findings: [{ detector: "new_device" }, { detector: "new_country", error: { code: "x", message: "y" } }],
    } as unknown as Decision;
    expect(compareDecision(decision, { path: "step_up", reasons: ["new_device"], findings: ["new_device"] })).toEqual(
      [],
    );
    expect(
      compareDecision(decision, {
        path: "allow",
        decision: true,
        segment: "x",
        reasons: ["r"],
        findings: ["new_country"],
      }),
    ).toEqual([
      "path: expected allow, got step_up",
      "decision: expected true, got false",
      'segment: expected "x", got "people"',
      'reasons: expected "r" among [new_device]',
      'findings: expected "new_country" among [new_device]',
    ]);
  });
});

describe("example policy tests", () => {
  for (const name of ["authzen-todo", "authzen-gateway", "authzen-certification", "authzen-search"]) {
    it(`${name} passes its own test file`, async () => {
      const suite = await loadTestFile(new URL(`../../examples/${name}/policy.test.yaml`, import.meta.url).pathname);
      const results = await runTestFile(suite, { detectors: [] });
      expect(results.length).toBeGreaterThan(2);
      for (const r of results) expect(r.failures, r.name).toEqual([]);
    });
  }

  it("a wrong expectation fails with a readable diff", async () => {
    const suite = parseTestFile(
      `policy: ../../examples/authzen-todo/policy.yaml
cases:
  - name: expecting the wrong path
    request: { subject: { type: user, id: nobody }, action: { name: can_create_todo }, resource: { type: todo, id: t } }
    expect: { path: allow }
`,
      new URL("./virtual.test.yaml", import.meta.url).pathname,
    );
    const [r] = await runTestFile(suite, { detectors: [] });
    expect(r?.passed).toBe(false);
    expect(r?.failures).toEqual(["path: expected allow, got deny"]);
  });
});
