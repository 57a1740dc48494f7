/**
 * The shipped policies' conditions give the same results in Signalbox's CEL implementation and in
 * `@bufbuild/cel`, a conformant one, on a sample of requests and findings.
 */

import { CelScalar, celFunc, isCelError, run } from "@bufbuild/cel";
import { describe, expect, it } from "vitest";
import { cidrContains, globMatch } from "../../src/policy/cel-functions.js";
import type { CompiledPolicy, Condition, ConditionVars } from "../../src/policy/compiled.js";
import { type ConditionScope, conditionBindings } from "../../src/policy/condition.js";
import { loadPolicy } from "../../src/policy/load.js";

const FUNCS = [
  celFunc("cidr_contains", [CelScalar.STRING, CelScalar.STRING], CelScalar.BOOL, cidrContains),
  celFunc("glob", [CelScalar.STRING, CelScalar.STRING], CelScalar.BOOL, globMatch),
];

/** bufbuild/cel takes maps as `Map`s. */
function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === "object") {
    return new Map(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, toCel(v)]),
    );
  }
  return value;
}

function reference(source: string, vars: ConditionVars, scope: ConditionScope): boolean {
  const bindings = Object.fromEntries(Object.entries(conditionBindings(vars, scope)).map(([k, v]) => [k, toCel(v)]));
  // biome-ignore lint/suspicious/noExplicitAny: the reference evaluator's input type is a deep union
  const result = run(source, bindings as any, { funcs: FUNCS });
  return !isCelError(result) && result === true;
}

const finding = (severity: string, points: number) => ({
  severity,
  points,
  contribution: points,
  code: "c",
  message: "m",
  evidence: {},
});

const TODO_RICK = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
const TODO_MORTY = "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
const TODO_BETH = "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";

function samples(entities: unknown): ConditionVars[] {
  const base = { entities, enrichment: {}, context: undefined };
  const out: ConditionVars[] = [
    {
      ...base,
      subject: { type: "user", id: "alice" },
      action: { name: "login" },
      resource: { type: "app", id: "portal" },
      context: {},
    },
    {
      ...base,
      subject: { type: "user", id: "alice" },
      action: { name: "read", properties: { privileged: true } },
      resource: { type: "doc", id: "d1" },
      context: { transaction: { amount: 1500 } },
    },
    {
      ...base,
      subject: { type: "user", id: "bob" },
      action: { name: "payments.transfer" },
      resource: { type: "account", id: "a1", properties: { sensitivity: "high" } },
      context: { transaction: { amount: 20 } },
    },
    { ...base, subject: { type: "identity", id: "u" }, action: { name: "read" }, resource: { type: "doc", id: "x" } },
    {
      ...base,
      subject: { type: "service", id: "billing" },
      action: { name: "secrets.read" },
      resource: { type: "secret", id: "s" },
    },
    {
      ...base,
      subject: { type: "ci_job", id: "build" },
      action: { name: "deploy" },
      resource: { type: "env", id: "prod" },
      context: { workload: { attested: false } },
    },
    {
      ...base,
      subject: { type: "ci_job", id: "build" },
      action: { name: "deploy" },
      resource: { type: "env", id: "prod" },
      context: { workload: {} },
    },
    { ...base, subject: { type: "agent", id: "a" }, action: { name: "admin" }, resource: { type: "x", id: "y" } },
    { ...base, subject: { type: "device", id: "d" }, action: { name: "read" }, resource: { type: "x", id: "y" } },
    // AuthZEN examples.
    {
      ...base,
      subject: { type: "user", id: "dan" },
      action: { name: "view" },
      resource: { type: "record", id: "101" },
    },
    {
      ...base,
      subject: { type: "user", id: "dan" },
      action: { name: "edit" },
      resource: { type: "record", id: "104" },
    },
    {
      ...base,
      subject: { type: "user", id: "bob" },
      action: { name: "delete" },
      resource: { type: "record", id: "102" },
    },
    {
      ...base,
      subject: { type: "user", id: TODO_RICK },
      action: { name: "can_delete_todo" },
      resource: { type: "todo", id: "t", properties: { ownerID: "x" } },
    },
    {
      ...base,
      subject: { type: "user", id: TODO_MORTY },
      action: { name: "can_update_todo" },
      resource: { type: "todo", id: "t", properties: { ownerID: "morty@the-citadel.com" } },
    },
    {
      ...base,
      subject: { type: "user", id: TODO_BETH },
      action: { name: "can_create_todo" },
      resource: { type: "todo", id: "todo-1" },
    },
    {
      ...base,
      subject: { type: "user", id: "nobody" },
      action: { name: "can_create_todo" },
      resource: { type: "todo", id: "todo-1" },
    },
    {
      ...base,
      subject: { type: "identity", id: TODO_MORTY },
      action: { name: "PUT" },
      resource: { type: "route", id: "/todos/{todoId}" },
    },
    {
      ...base,
      subject: { type: "identity", id: TODO_BETH },
      action: { name: "GET" },
      resource: { type: "route", id: "/users/{userId}" },
    },
    {
      ...base,
      subject: { type: "user", id: "alice" },
      action: { name: "write" },
      resource: { type: "record", id: "record-2" },
    },
    {
      ...base,
      subject: { type: "user", id: "alice" },
      action: { name: "write" },
      resource: { type: "record", id: "record-1", properties: { status: "active" } },
    },
    {
      ...base,
      subject: { type: "user", id: "bob", properties: { role: "admin" } },
      action: { name: "write" },
      resource: { type: "record", id: "record-2" },
    },
    {
      ...base,
      subject: { type: "user", id: "alice" },
      action: { name: "delete", properties: { soft: true } },
      resource: { type: "record", id: "record-1" },
    },
  ];
  const findingSets = [
    {},
    { password_spray: finding("high", 40), mfa_fatigue: finding("medium", 35) },
    { token_replay: finding("critical", 90), impossible_travel: finding("critical", 80) },
    {
      failed_login_velocity: finding("high", 50),
      rate_anomaly: finding("medium", 35),
      unusual_action: finding("medium", 30),
    },
    {
      token_replay: finding("high", 60),
      impossible_travel: finding("high", 60),
      privilege_escalation: finding("high", 50),
    },
  ];
  return out.flatMap((vars, i) => {
    const f = findingSets[i % findingSets.length] ?? {};
    return [
      { ...vars, findings: f, score: 30 + i, band: "medium", segment: "s", errors: [] },
      { ...vars, findings: {}, score: 0, band: "low", segment: "s", errors: ["new_device"] },
    ];
  });
}

function conditionsOf(policy: CompiledPolicy): { condition: Condition; scope: ConditionScope }[] {
  return policy.segments.flatMap((s) => [
    { condition: s.when, scope: "request" as const },
    ...(s.authorize?.rules ?? []).map((r) => ({ condition: r.when, scope: "request" as const })),
    ...s.rules.map((r) => ({ condition: r.when, scope: "rule" as const })),
  ]);
}

const SHIPPED = [
  "policies/default.yaml",
  "examples/authzen-todo/policy.yaml",
  "examples/authzen-gateway/policy.yaml",
  "examples/authzen-certification/policy.yaml",
  "examples/authzen-search/policy.yaml",
];

describe("shipped conditions agree with @bufbuild/cel", () => {
  for (const file of SHIPPED) {
    it(file, async () => {
      const policy = await loadPolicy(new URL(`../../${file}`, import.meta.url).pathname);
      const conditions = conditionsOf(policy);
      let trues = 0;
      let compared = 0;
      for (const vars of samples(policy.entities)) {
        for (const { condition, scope } of conditions) {
          const ours = condition.evaluate(vars).value;
          const theirs = reference(condition.source, vars, scope);
          expect(ours, `${condition.source} on ${JSON.stringify(vars)}`).toBe(theirs);
          compared++;
          if (ours) trues++;
        }
      }
      // The sample must exercise both outcomes, or the comparison proves little.
      expect(trues).toBeGreaterThan(0);
      expect(trues).toBeLessThan(compared);
    });
  }
});
