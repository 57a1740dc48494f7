import { describe, expect, it } from "vitest";
import { expandEvaluations } from "../../src/model/evaluations.js";

describe("expandEvaluations", () => {
  it("gives items the top-level defaults, each member replaced whole", () => {
    const body = {
      subject: { type: "user", id: "alice", properties: { role: "x" } },
      action: { name: "read" },
      context: { time: "t0" },
      evaluations: [
        { resource: { type: "r", id: "1" } },
        { subject: { type: "user", id: "bob" }, resource: { type: "r", id: "2" }, context: { source: "b" } },
      ],
    };
    expect(expandEvaluations(body)).toEqual([
      { subject: body.subject, action: body.action, resource: { type: "r", id: "1" }, context: { time: "t0" } },
      {
        subject: { type: "user", id: "bob" },
        action: body.action,
        resource: { type: "r", id: "2" },
        context: { source: "b" },
      },
    ]);
  });

  it("answers a body without evaluations, or with an empty list, as one request", () => {
    const single = { subject: { type: "u", id: "a" }, action: { name: "r" }, resource: { type: "t", id: "1" } };
    expect(expandEvaluations(single)).toEqual([single]);
    expect(expandEvaluations({ ...single, evaluations: [] })).toEqual([single]);
  });

  it("keeps order and length, leaving missing members absent for validation", () => {
    const items = expandEvaluations({
      action: { name: "r" },
      evaluations: [{}, null, { resource: { type: "t", id: "1" } }],
    });
    expect(items).toHaveLength(3);
    expect(items[0]).toEqual({ action: { name: "r" } });
    expect(items[1]).toEqual({ action: { name: "r" } });
    expect("resource" in (items[0] ?? {})).toBe(false);
  });

  it("ignores a body that is not an object", () => {
    expect(expandEvaluations("nonsense")).toEqual([{}]);
  });
});
