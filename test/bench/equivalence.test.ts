/** The pure-authorization benchmark is only fair if Signalbox, casbin and Cedar answer every Todo question alike. */

import { describe, expect, it } from "vitest";
import {
  allTodoCases,
  casbinTodo,
  cedarTodo,
  signalboxTodo,
  todoAnswers,
} from "../../bench/baselines/todo-deciders.js";
import { type TodoCase, todoRequest, UNKNOWN_SUBJECT } from "../../bench/requests.js";

const RICK = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"; // admin, evil genius
const BETH = "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"; // viewer
const SUMMER = "CiRmZDI2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"; // editor

/** Hand-checked answers from the Todo rules, asked of each system on its own. */
const KNOWN: readonly [TodoCase, boolean][] = [
  [{ subject: BETH, action: "can_read_todos", todo: "t1" }, true],
  [{ subject: BETH, action: "can_create_todo", todo: "t2" }, false],
  [{ subject: SUMMER, action: "can_update_todo", todo: "t3", ownerID: "summer@the-smiths.com" }, true],
  [{ subject: SUMMER, action: "can_delete_todo", todo: "t4", ownerID: "morty@the-citadel.com" }, false],
  [{ subject: SUMMER, action: "can_delete_todo", todo: "t5" }, false],
  [{ subject: RICK, action: "can_delete_todo", todo: "t6", ownerID: "morty@the-citadel.com" }, true],
  [{ subject: RICK, action: "can_update_todo", todo: "t7" }, true],
  [{ subject: UNKNOWN_SUBJECT, action: "can_read_user", todo: "t8" }, true],
  [{ subject: UNKNOWN_SUBJECT, action: "can_create_todo", todo: "t9" }, false],
];

describe("Todo deciders for the pure-authorization benchmark", () => {
  it("each system gives the hand-checked answers", async () => {
    const engine = await signalboxTodo();
    const casbin = await casbinTodo();
    const cedar = cedarTodo();
    for (const [c, expected] of KNOWN) {
      const label = `${c.action} by ${c.subject.slice(0, 8)} on ${c.ownerID ?? "no owner"}`;
      expect((await engine.decide(todoRequest(c))).decision, `signalbox: ${label}`).toBe(expected);
      expect(casbin.enforcer.enforceSync(...casbin.args(c)), `casbin: ${label}`).toBe(expected);
      expect(cedar.isAuthorized(cedar.call(c)), `cedar: ${label}`).toBe(expected);
    }
    await engine.close();
  });

  it("all three agree on every benchmarked case, allows and denies alike", async () => {
    const cases = allTodoCases();
    const answers = await todoAnswers(cases);
    expect(answers).toHaveLength(cases.length);
    const disagreements = answers.filter((a) => a.signalbox !== a.casbin || a.casbin !== a.cedar);
    expect(disagreements).toEqual([]);
    const allowed = answers.filter((a) => a.signalbox).length;
    expect(allowed).toBeGreaterThan(0);
    expect(allowed).toBeLessThan(cases.length);
  });
});
