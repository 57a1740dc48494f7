import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { KNOWN_DETECTOR_IDS } from "../../src/policy/detector-ids.js";

const root = new URL("../../", import.meta.url);
const schema = JSON.parse(readFileSync(new URL("schemas/policy.schema.json", root), "utf8"));
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

const SHIPPED = [
  "policies/default.yaml",
  "examples/authzen-todo/policy.yaml",
  "examples/authzen-gateway/policy.yaml",
  "examples/authzen-certification/policy.yaml",
  "examples/authzen-search/policy.yaml",
];

describe("policy JSON Schema", () => {
  for (const file of SHIPPED) {
    it(`validates ${file}`, () => {
      const doc = parse(readFileSync(new URL(file, root), "utf8"));
      const ok = validate(doc);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    });
  }

  it("rejects typos and unknown detectors", () => {
    const doc = parse(readFileSync(new URL("policies/default.yaml", root), "utf8"));
    doc.segments[0].whne = "true";
    expect(validate(doc)).toBe(false);
    const doc2 = parse(readFileSync(new URL("policies/default.yaml", root), "utf8"));
    doc2.segments[0].weights = { new_devise: 1 };
    expect(validate(doc2)).toBe(false);
  });

  it("lists exactly the known detector ids", () => {
    expect(schema.$defs.detectorId.enum).toEqual([...KNOWN_DETECTOR_IDS]);
  });
});
