import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatProblem, isSignalboxError, type SignalboxError } from "../../src/errors/signalbox-error.js";
import { checkPolicy, compilePolicy } from "../../src/policy/compile.js";
import { KNOWN_DETECTOR_IDS } from "../../src/policy/detector-ids.js";
import { DEFAULT_POLICY_FILE, loadPolicy } from "../../src/policy/load.js";

const noFiles = {
  readFile(path: string): string {
    throw new Error(`no such file "${path}"`);
  },
};

const MINIMAL = `signalbox: policy/v1
id: t
revision: "1"
segments:
  - name: everyone
    ladder:
      - { at: 0, path: allow }
      - { at: 40, path: step_up }
    on_error: deny
`;

function problemsOf(text: string, options: Parameters<typeof checkPolicy>[2] = noFiles): string[] {
  return checkPolicy(text, "p.yaml", options).map(formatProblem);
}

function withSegment(segment: string, extraTop = ""): string {
  return `signalbox: policy/v1
id: t
revision: "1"
${extraTop}segments:
${segment}
  - name: rest
    ladder: [{ at: 0, path: allow }]
    on_error: deny
`;
}

describe("compilePolicy", () => {
  it("compiles a minimal policy with default bands and every detector", () => {
    const p = compilePolicy(MINIMAL, "p.yaml", noFiles);
    expect(p.id).toBe("t");
    expect(p.revision).toBe("1");
    expect(p.bands).toEqual({ medium: 25, high: 50, critical: 75 });
    const seg = p.segments[0];
    expect(seg?.name).toBe("everyone");
    expect(seg?.detectors).toEqual([...KNOWN_DETECTOR_IDS]);
    expect(seg?.ladder).toEqual([
      { at: 0, path: "allow" },
      { at: 40, path: "step_up" },
    ]);
    expect(seg?.onError).toBe("deny");
    expect(
      seg?.when.evaluate({ subject: {}, action: {}, resource: {}, context: {}, entities: {}, enrichment: {} }),
    ).toEqual({
      value: true,
    });
    expect(Object.isFrozen(p)).toBe(true);
  });

  it("reports every problem at once, each with file, line and column", () => {
    const text = `signalbox: policy/v1
id: t
revision: "1"
bandz: {}
segments:
  - name: people
    whne: 'true'
    ladder: [{ at: 0, path: allow }, { at: 30, path: step_upp }]
    on_error: step_up
  - name: rest
    ladder: [{ at: 0, path: allow }]
    on_error: deny
`;
    expect(problemsOf(text)).toEqual([
      'p.yaml:4:1: the policy: unknown key "bandz" (did you mean "bands"?)',
      "p.yaml:6:5: segments: segment 1 has no `when`, so the segments after it can never be chosen",
      'p.yaml:7:5: segment "people": unknown key "whne" (did you mean "when"?)',
      'p.yaml:8:54: segment "people": ladder[1].path: unknown control path "step_upp" (did you mean "step_up"?)',
    ]);
  });

  it("throws POLICY_INVALID carrying the problems", () => {
    let caught: unknown;
    try {
      compilePolicy(MINIMAL.replace("on_error: deny", "on_error: maybe"), "p.yaml", noFiles);
    } catch (err) {
      caught = err;
    }
    expect(isSignalboxError(caught)).toBe(true);
    const err = caught as SignalboxError;
    expect(err.code).toBe("POLICY_INVALID");
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]?.position).toEqual({ file: "p.yaml", line: 9, column: 15 });
    expect(err.message).toContain('unknown control path "maybe"');
  });

  it("points into the expression for a CEL syntax error", () => {
    const text = withSegment(`  - name: people
    when: 'subject.type == '
    ladder: [{ at: 0, path: allow }]
    on_error: deny`);
    const [p] = checkPolicy(text, "p.yaml", noFiles);
    // Line 6 is the \`when\`; the expression starts at column 12 and ends after 16 characters.
    expect(p?.position).toEqual({ file: "p.yaml", line: 6, column: 28 });
    expect(p?.message).toMatch(/^segment "people": when: unexpected token/);
  });

  it("points into a block scalar's line for a type error", () => {
    const text = withSegment(`  - name: people
    when: |
      subject.type == "user" &&
      score > "x"
    ladder: [{ at: 0, path: allow }]
    on_error: deny`);
    const [p] = checkPolicy(text, "p.yaml", noFiles);
    expect(p?.position?.line).toBe(8);
    expect(p?.message).toContain("`score` is only available in rules");
  });

  it("rejects findings and score in segment conditions and authorization grants", () => {
    const text = withSegment(`  - name: people
    when: 'has(findings.new_device)'
    authorize:
      - id: g
        when: 'score < 10.0'
    on_error: deny`);
    const problems = problemsOf(text);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain("`findings` is only available in rules");
    expect(problems[1]).toContain('grant "g": when: `score` is only available in rules');
  });

  it("accepts findings, score, band, segment and errors in rules", () => {
    const text = withSegment(`  - name: people
    ladder: [{ at: 0, path: allow }]
    rules:
      - id: r
        when: 'score >= 30 && band == "high" && segment == "people" && size(errors) == 0 && has(findings.new_device)'
        path: deny
        reason: { code: r, message: "r" }
    on_error: deny`).replace("  - name: rest\n    ladder: [{ at: 0, path: allow }]\n    on_error: deny\n", "");
    const p = compilePolicy(text.replace("  - name: people\n", "  - name: people\n"), "p.yaml", noFiles);
    const rule = p.segments[0]?.rules[0];
    const base = { subject: {}, action: {}, resource: {}, context: {}, entities: {}, enrichment: {} };
    expect(
      rule?.when.evaluate({
        ...base,
        score: 30,
        band: "high",
        segment: "people",
        errors: [],
        findings: { new_device: {} },
      }).value,
    ).toBe(true);
    expect(
      rule?.when.evaluate({ ...base, score: 29.5, band: "high", segment: "people", errors: [], findings: {} }).value,
    ).toBe(false);
  });

  it("rejects a condition that is not a bool", () => {
    const text = withSegment(`  - name: people
    when: 'subject.id + "x"'
    ladder: [{ at: 0, path: allow }]
    on_error: deny`);
    expect(problemsOf(text)[0]).toContain("a condition must be a bool, this one is a string");
  });

  it("rejects unknown detector ids everywhere they can appear", () => {
    const text = withSegment(
      `  - name: people
    when: 'true == false'
    detectors: [new_device, new_devise]
    weights: { impossible_travle: 2 }
    ladder: [{ at: 0, path: allow }]
    on_error: deny`,
      "detectors:\n  token_replai: { points: 3 }\n",
    );
    const problems = problemsOf(text);
    expect(problems).toEqual([
      'p.yaml:5:3: detectors: unknown detector "token_replai" (did you mean "token_replay"?)',
      'p.yaml:9:29: segment "people": detectors: unknown detector "new_devise" (did you mean "new_device"?)',
      'p.yaml:10:16: segment "people": weights: unknown detector "impossible_travle" (did you mean "impossible_travel"?)',
    ]);
  });

  it("uses the detector ids the caller passes", () => {
    const text = MINIMAL.replace("    ladder:", "    detectors: [custom_one]\n    ladder:");
    expect(problemsOf(text)[0]).toContain('unknown detector "custom_one"');
    const p = compilePolicy(text, "p.yaml", { ...noFiles, knownDetectors: ["custom_one"] });
    expect(p.segments[0]?.detectors).toEqual(["custom_one"]);
  });

  it("drops disabled detectors from `all` and keeps their parameters", () => {
    const text = MINIMAL.replace(
      "segments:",
      "detectors:\n  new_device: { enabled: false }\n  impossible_travel: { points: 70, max_kmh: 900 }\nsegments:",
    );
    const p = compilePolicy(text, "p.yaml", noFiles);
    expect(p.segments[0]?.detectors).not.toContain("new_device");
    expect(p.segments[0]?.detectors).toContain("impossible_travel");
    expect(p.detectorParams.impossible_travel).toEqual({ points: 70, max_kmh: 900 });
  });

  it("requires a ladder or authorize, and a catch-all last segment", () => {
    const text = `signalbox: policy/v1
id: t
revision: "1"
segments:
  - name: a
    on_error: deny
  - name: b
    when: 'subject.type == "user"'
    ladder: [{ at: 0, path: allow }]
    on_error: deny
`;
    const problems = problemsOf(text);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('segment "a" needs a `ladder` or `authorize`');
    expect(problems[1]).toContain("segment 1 has no `when`, so the segments after it can never be chosen");
    expect(problems[2]).toContain("the last segment must be a catch-all");
  });

  it("checks ladder order, bands, names and the format version", () => {
    const text = `signalbox: policy/v2
id: t
revision: "1"
bands: { medium: 60, high: 50, critical: 75 }
segments:
  - name: Everyone
    ladder: [{ at: 10, path: allow }, { at: 5, path: deny }]
    on_error: deny
`;
    const problems = problemsOf(text);
    expect(problems.some((p) => p.includes('unsupported format "policy/v2"'))).toBe(true);
    expect(problems.some((p) => p.includes("bands must ascend"))).toBe(true);
    expect(problems.some((p) => p.includes('segment name "Everyone" must match'))).toBe(true);
    expect(problems.some((p) => p.includes("the first step must be at 0"))).toBe(true);
    expect(problems.some((p) => p.includes("steps must ascend (5 after 10)"))).toBe(true);
  });

  it("merges per-segment path settings over the policy-wide ones", () => {
    const text = MINIMAL.replace(
      "segments:",
      'paths:\n  step_up: { acr_values: "urn:a", max_age: 300 }\nsegments:',
    ).replace(
      "    on_error: deny",
      "    on_error: deny\n    paths:\n      step_up: { max_age: 0 }\n      machine_step_up: { reattest: true }",
    );
    const p = compilePolicy(text, "p.yaml", noFiles);
    expect(p.segments[0]?.paths).toEqual({
      step_up: { acr_values: "urn:a", max_age: 0 },
      machine_step_up: { reattest: true },
    });
  });

  it("compiles authorization grants with `otherwise` and a not_authorized reason", () => {
    const text = `signalbox: policy/v1
id: t
revision: "1"
entities: ./ents.json
segments:
  - name: apps
    detectors: none
    authorize:
      - id: editors
        when: '"editor" in entities.users[subject.id].roles'
    otherwise: hold
    on_error: deny
`;
    const files = {
      readFile: (path: string) => (path.endsWith("/dir/ents.json") ? '{"users":{"u":{"roles":["editor"]}}}' : ""),
    };
    const p = compilePolicy(text, "/dir/p.yaml", files);
    const seg = p.segments[0];
    expect(seg?.detectors).toEqual([]);
    expect(seg?.authorize?.otherwise).toBe("hold");
    expect(seg?.authorize?.reason.code).toBe("not_authorized");
    expect(seg?.authorize?.rules[0]?.path).toBe("allow");
    const vars = { subject: { id: "u" }, action: {}, resource: {}, context: {}, entities: p.entities, enrichment: {} };
    expect(seg?.authorize?.rules[0]?.when.evaluate(vars).value).toBe(true);
    expect(seg?.authorize?.rules[0]?.when.evaluate({ ...vars, subject: { id: "x" } }).value).toBe(false);
  });

  it("throws POLICY_NOT_FOUND when the entities file cannot be read", () => {
    const text = MINIMAL.replace("segments:", "entities: ./missing.json\nsegments:");
    expect(() => compilePolicy(text, "p.yaml", noFiles)).toThrow(expect.objectContaining({ code: "POLICY_NOT_FOUND" }));
    expect(problemsOf(text)[0]).toMatch(/^p\.yaml:4:11: entities: cannot read "\.\/missing\.json"/);
  });

  it("reports YAML syntax errors and duplicate keys with positions", () => {
    expect(problemsOf("signalbox: policy/v1\nid: a\nid: b\n")[0]).toMatch(/^p\.yaml:3:1: yaml: /);
    expect(problemsOf("signalbox: [\n")[0]).toMatch(/^p\.yaml:\d+:\d+: yaml: /);
  });

  it("requires a reason on every rule", () => {
    const text = MINIMAL.replace(
      "    on_error: deny",
      "    rules:\n      - id: r\n        when: 'true'\n        path: deny\n    on_error: deny",
    );
    expect(problemsOf(text)).toEqual(['p.yaml:10:9: segment "everyone": rule "r": missing required key "reason"']);
  });
});

describe("loadPolicy", () => {
  it("finds the default policy relative to the package root and compiles it", async () => {
    expect(existsSync(DEFAULT_POLICY_FILE)).toBe(true);
    const p = await loadPolicy();
    expect(p.id).toBe("default");
    expect(p.segments.map((s) => s.name)).toEqual([
      "people-login",
      "people-privileged",
      "people-standard",
      "services",
      "ci-jobs",
      "agents",
      "catch-all",
    ]);
  });

  it("throws POLICY_NOT_FOUND for a missing file", async () => {
    await expect(loadPolicy("/nonexistent/policy.yaml")).rejects.toMatchObject({ code: "POLICY_NOT_FOUND" });
  });

  it("loads every example policy", async () => {
    for (const name of ["authzen-todo", "authzen-gateway", "authzen-certification", "authzen-search"]) {
      const file = new URL(`../../examples/${name}/policy.yaml`, import.meta.url).pathname;
      expect(readFileSync(file, "utf8")).toContain("signalbox: policy/v1");
      const p = await loadPolicy(file);
      expect(p.segments.length).toBeGreaterThan(0);
    }
  });
});
