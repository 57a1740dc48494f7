/**
 * The three Todo deciders the pure-authorization benchmark compares: Signalbox's engine on
 * `examples/authzen-todo/policy.yaml` (detectors none, memory state, audit off), casbin on the
 * equivalent ABAC model beside this file, and Cedar (wasm) on the equivalent Cedar policy.
 */

import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { type Enforcer, newEnforcer } from "casbin";
import { createEngine } from "../../src/engine/create-engine.js";
import type { Engine } from "../../src/engine/engine.js";
import { loadPolicy } from "../../src/policy/load.js";
import { type TodoCase, todoCases, todoRequest } from "../requests.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const EXAMPLE = resolve(HERE, "..", "..", "examples", "authzen-todo");
const CEDAR_POLICY_SET = "signalbox-bench-todo";

export interface TodoUser {
  readonly email: string;
  readonly roles: readonly string[];
}

/** The Todo users by PID, from the example's entities file (the one the Signalbox policy reads). */
export function todoUsers(): Map<string, TodoUser> {
  const file = JSON.parse(readFileSync(join(EXAMPLE, "todo-entities.json"), "utf8")) as {
    users: Record<string, { email: string; roles: string[] }>;
  };
  return new Map(Object.entries(file.users).map(([pid, u]) => [pid, { email: u.email, roles: u.roles }]));
}

/** Every Todo case over the example's users. */
export function allTodoCases(): TodoCase[] {
  const users = todoUsers();
  return todoCases(
    [...users.keys()],
    [...users.values()].map((u) => u.email),
  );
}

/** Signalbox on the Todo example: memory state, audit off, the policy's own `detectors: none`. */
export async function signalboxTodo(): Promise<Engine> {
  return createEngine({ policy: await loadPolicy(join(EXAMPLE, "policy.yaml")) });
}

export interface CasbinTodo {
  readonly enforcer: Enforcer;
  /** The arguments of `enforceSync` for a case, built once so the timed loop only enforces. */
  args(c: TodoCase): [TodoUser, { ownerID?: string }, string];
}

const NOBODY: TodoUser = { email: "", roles: [] };

export async function casbinTodo(): Promise<CasbinTodo> {
  const enforcer = await newEnforcer(join(HERE, "todo-model.conf"), join(HERE, "todo-policy.csv"));
  await enforcer.addFunction(
    "hasRole",
    (roles: unknown, role: unknown) => Array.isArray(roles) && roles.includes(role),
  );
  const users = todoUsers();
  return {
    enforcer,
    args: (c) => [users.get(c.subject) ?? NOBODY, c.ownerID === undefined ? {} : { ownerID: c.ownerID }, c.action],
  };
}

export interface CedarTodo {
  /** The stateful call for a case: policies preparsed once, the request's two entities passed along. */
  call(c: TodoCase): cedar.StatefulAuthorizationCall;
  isAuthorized(call: cedar.StatefulAuthorizationCall): boolean;
}

export function cedarTodo(): CedarTodo {
  const parsed = cedar.preparsePolicySet(CEDAR_POLICY_SET, {
    staticPolicies: readFileSync(join(HERE, "todo.cedar"), "utf8"),
  });
  if (parsed.type !== "success") {
    throw new Error(`the Cedar Todo policy does not parse: ${parsed.errors.map((e) => e.message).join("; ")}`);
  }
  const users = todoUsers();
  return {
    call: (c) => {
      const user = users.get(c.subject);
      const entities: cedar.EntityJson[] = [
        {
          uid: { type: "Todo", id: c.todo },
          attrs: c.ownerID === undefined ? {} : { ownerID: c.ownerID },
          parents: [],
        },
      ];
      if (user) {
        entities.push({
          uid: { type: "User", id: c.subject },
          attrs: { email: user.email, roles: [...user.roles] },
          parents: [],
        });
      }
      return {
        principal: { type: "User", id: c.subject },
        action: { type: "Action", id: c.action },
        resource: { type: "Todo", id: c.todo },
        context: {},
        preparsedPolicySetId: CEDAR_POLICY_SET,
        entities,
      };
    },
    isAuthorized: (call) => {
      const answer = cedar.statefulIsAuthorized(call);
      if (answer.type !== "success") {
        throw new Error(`Cedar failed: ${answer.errors.map((e) => e.message).join("; ")}`);
      }
      return answer.response.decision === "allow";
    },
  };
}

/** The three answers to each case; the benchmark is only fair while they agree. */
export async function todoAnswers(
  cases: readonly TodoCase[],
): Promise<{ case: TodoCase; signalbox: boolean; casbin: boolean; cedar: boolean }[]> {
  const engine = await signalboxTodo();
  const casbin = await casbinTodo();
  const cedarDecider = cedarTodo();
  const answers = [];
  for (const c of cases) {
    answers.push({
      case: c,
      signalbox: (await engine.decide(todoRequest(c))).decision,
      casbin: casbin.enforcer.enforceSync(...casbin.args(c)),
      cedar: cedarDecider.isAuthorized(cedarDecider.call(c)),
    });
  }
  await engine.close();
  return answers;
}
