import { describe, expect, it } from "vitest";
import { formatProblem } from "../../src/errors/signalbox-error.js";
import { checkPolicy, compilePolicy } from "../../src/policy/compile.js";
import { searchCandidates } from "../../src/policy/search.js";

const ENTITIES = JSON.stringify({
  users: { zoe: { properties: { role: "admin" } }, adam: { dept: "x" } },
  records: { r2: {}, r1: {} },
  motto: "not a collection",
});

const files = {
  readFile(path: string): string {
    if (path.endsWith("entities.json")) return ENTITIES;
    throw new Error(`no such file "${path}"`);
  },
};

function policyText(search: string): string {
  return `signalbox: policy/v1
id: t
revision: "1"
entities: ./entities.json
${search}
segments:
  - name: all
    authorize:
      - id: any
        when: "true"
    otherwise: deny
    on_error: deny
`;
}

const SEARCH = `search:
  subjects:
    user: { entities: users, properties: properties }
  resources:
    record: records
  actions: [read, write, read]`;

describe("the policy's search section", () => {
  it("compiles short and long collection forms and de-duplicates actions", () => {
    const policy = compilePolicy(policyText(SEARCH), "p.yaml", files);
    expect(policy.search).toEqual({
      subjects: { user: { entities: "users", properties: "properties" } },
      resources: { record: { entities: "records" } },
      actions: ["read", "write"],
    });
    expect(compilePolicy(policyText(""), "p.yaml", files).search).toBeUndefined();
  });

  it("reports a missing collection, a collection that is not a map, and unknown keys, with positions", () => {
    const problems = checkPolicy(
      policyText(`search:
  subjects:
    user: people
    robot: motto
  resources:
    record: { entity: records }
  verbs: [read]`),
      "p.yaml",
      files,
    ).map(formatProblem);
    expect(problems).toEqual([
      'p.yaml:7:11: search.subjects.user: the entities file has no collection "people" (a map of entities by id)',
      'p.yaml:8:12: search.subjects.robot: the entities file has no collection "motto" (a map of entities by id)',
      'p.yaml:10:13: search.resources.record: missing required key "entities"',
      'p.yaml:10:15: search.resources.record: unknown key "entity"',
      'p.yaml:11:3: search: unknown key "verbs"',
    ]);
  });
});

describe("search candidates", () => {
  const policy = compilePolicy(policyText(SEARCH), "p.yaml", files);

  it("lists candidates by id, carrying declared properties over those the request gave", () => {
    const got = searchCandidates(policy, "subject", {
      subject: { type: "user", id: "ignored", properties: { role: "guest", tier: "gold" } },
      action: { name: "read" },
      resource: { type: "record", id: "r1" },
      context: { ip: "10.0.0.1" },
    });
    expect(got.map((c) => c.result)).toEqual([
      { type: "user", id: "adam" },
      { type: "user", id: "zoe" },
    ]);
    expect(got[0]?.request).toEqual({
      subject: { type: "user", id: "adam", properties: { role: "guest", tier: "gold" } },
      action: { name: "read" },
      resource: { type: "record", id: "r1" },
      context: { ip: "10.0.0.1" },
    });
    expect(got[1]?.request.subject).toEqual({ type: "user", id: "zoe", properties: { role: "admin", tier: "gold" } });
  });

  it("lists resources and actions, and nothing for unknown types or ids", () => {
    const subject = { type: "user", id: "zoe" };
    const resources = searchCandidates(policy, "resource", {
      subject,
      action: { name: "read" },
      resource: { type: "record" },
    });
    expect(resources.map((c) => c.result)).toEqual([
      { type: "record", id: "r1" },
      { type: "record", id: "r2" },
    ]);
    const actions = searchCandidates(policy, "action", { subject, resource: { type: "record", id: "r2" } });
    expect(actions.map((c) => c.result)).toEqual([{ name: "read" }, { name: "write" }]);
    expect(actions[1]?.request.action).toEqual({ name: "write" });
    expect(
      searchCandidates(policy, "action", {
        subject: { type: "user", id: "nobody" },
        resource: { type: "record", id: "r2" },
      }),
    ).toEqual([]);
    expect(searchCandidates(policy, "action", { subject, resource: { type: "file", id: "r2" } })).toEqual([]);
    expect(
      searchCandidates(policy, "resource", { subject, action: { name: "read" }, resource: { type: "file" } }),
    ).toEqual([]);
  });
});
