/**
 * AuthZEN conformance in-process: every decision case of the Todo, API-gateway and certification
 * suites runs through `engine.decide` with the example policies, without HTTP.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/create-engine.js";
import type { Engine } from "../../src/engine/engine.js";
import { isSignalboxError } from "../../src/errors/signalbox-error.js";
import { expandEvaluations } from "../../src/model/evaluations.js";
import { loadPolicy } from "../../src/policy/load.js";

const REPO = new URL("../../", import.meta.url);
/**
 * The AuthZEN conformance files (a copy of openid/authzen's interop and certification data): the
 * directory named by SIGNALBOX_AUTHZEN_DIR, else `shared/conformance/authzen` beside the repository.
 */
const AUTHZEN = process.env.SIGNALBOX_AUTHZEN_DIR ?? new URL("../shared/conformance/authzen", REPO).pathname;
const PRESENT = existsSync(join(AUTHZEN, "derived", "certification-cases.json"));
if (!PRESENT) {
  if (process.env.CI === "true") throw new Error(`the AuthZEN conformance files are missing from "${AUTHZEN}"`);
  console.warn(
    `SKIPPING AuthZEN in-process conformance: no conformance files in "${AUTHZEN}" (set SIGNALBOX_AUTHZEN_DIR)`,
  );
}

interface EvaluationCase {
  request: unknown;
  expected: boolean;
}
interface BatchCase {
  request: unknown;
  expected: { decision: boolean }[];
}

function json<T>(relative: string): T {
  return JSON.parse(readFileSync(join(AUTHZEN, relative), "utf8")) as T;
}

const engines: Engine[] = [];
async function engineFor(example: string): Promise<Engine> {
  const policy = await loadPolicy(new URL(`examples/${example}/policy.yaml`, REPO).pathname);
  // Pure authorization: the examples run no detectors, so no state or time matters.
  const engine = createEngine({ policy, detectors: [] });
  engines.push(engine);
  return engine;
}

/** The AuthZEN boolean for one item: a request the engine rejects as malformed is `false`. */
async function decisionOf(engine: Engine, request: unknown): Promise<boolean> {
  try {
    return (await engine.decide(request)).decision;
  } catch (err) {
    if (isSignalboxError(err) && err.code === "INVALID_REQUEST") return false;
    throw err;
  }
}

afterAll(async () => {
  for (const e of engines) await e.close();
});

if (PRESENT) {
  describe("Todo interop (Authorization API 1.0, draft 02)", async () => {
    const data = json<{ evaluation: EvaluationCase[]; evaluations: BatchCase[] }>(
      "interop/authzen-todo-backend/test/decisions-authorization-api-1_0-02.json",
    );
    const engine = await engineFor("authzen-todo");
    it("has the 40 + 3 cases the README counts", () => {
      expect(data.evaluation).toHaveLength(40);
      expect(data.evaluations).toHaveLength(3);
    });
    data.evaluation.forEach((c, i) => {
      it(`evaluation ${i}`, async () => {
        expect(await decisionOf(engine, c.request)).toBe(c.expected);
      });
    });
    data.evaluations.forEach((c, i) => {
      it(`evaluations ${i}`, async () => {
        const items = expandEvaluations(c.request);
        const got = [];
        for (const item of items) got.push({ decision: await decisionOf(engine, item) });
        expect(got).toEqual(c.expected);
      });
    });
  });

  describe("API gateway interop", async () => {
    const data = json<{ evaluation: EvaluationCase[] }>(
      "interop/authzen-api-gateways/test-harness/test/decisions.json",
    );
    const engine = await engineFor("authzen-gateway");
    it("has 25 cases", () => expect(data.evaluation).toHaveLength(25));
    data.evaluation.forEach((c, i) => {
      it(`evaluation ${i}`, async () => {
        expect(await decisionOf(engine, c.request)).toBe(c.expected);
      });
    });
  });

  describe("certification fixture", async () => {
    const data = json<{
      evaluation: { id: string; request: unknown; expected: { decision: boolean } }[];
      evaluation_errors: { id: string; request?: unknown; expect_status: number }[];
      evaluations: {
        id: string;
        request: unknown;
        structure_only?: boolean;
        expected?: boolean[];
        expected_length?: number;
        expected_single?: { decision: boolean };
      }[];
    }>("derived/certification-cases.json");
    const engine = await engineFor("authzen-certification");
    for (const c of data.evaluation) {
      it(`${c.id}`, async () => {
        expect(await decisionOf(engine, c.request)).toBe(c.expected.decision);
      });
    }
    for (const c of data.evaluations) {
      it(`${c.id}`, async () => {
        const items = expandEvaluations(c.request);
        const got: boolean[] = [];
        for (const item of items) got.push(await decisionOf(engine, item));
        if (c.expected) expect(got).toEqual(c.expected);
        else if (c.expected_single) expect(got).toEqual([c.expected_single.decision]);
        else expect(got).toHaveLength(c.expected_length ?? -1);
      });
    }
    // Transport-level cases (content type, malformed JSON, empty body) belong to the HTTP suite.
    for (const c of data.evaluation_errors.filter((e) => e.request !== undefined)) {
      it(`${c.id} is rejected as INVALID_REQUEST (HTTP ${c.expect_status})`, async () => {
        await expect(engine.decide(c.request)).rejects.toMatchObject({
          code: "INVALID_REQUEST",
          status: c.expect_status,
        });
      });
    }
  });

  describe("search interop, answered by evaluating every candidate", async () => {
    const engine = await engineFor("authzen-search");
    const entities = engine.policy.entities as { users: Record<string, unknown>; records: Record<string, unknown> };
    const users = Object.keys(entities.users);
    const records = Object.keys(entities.records);
    const allowed = async (subject: string, action: string, record: string) =>
      decisionOf(engine, {
        subject: { type: "user", id: subject },
        action: { name: action },
        resource: { type: "record", id: record },
      });
    type Search = {
      request: Record<string, { id?: string; name?: string }>;
      expected: { results: Record<string, string>[] };
    };
    const dir = "interop/authzen-search-demo/test-harness/src/";
    const byId = (a: Record<string, string>, b: Record<string, string>) => (a.id ?? "").localeCompare(b.id ?? "");
    const byName = (a: Record<string, string>, b: Record<string, string>) => (a.name ?? "").localeCompare(b.name ?? "");

    it("subject search (60 cases)", async () => {
      const cases = json<{ evaluation: Search[] }>(`${dir}subject/results.json`).evaluation;
      expect(cases).toHaveLength(60);
      for (const c of cases) {
        const got = [];
        for (const u of users) {
          if (await allowed(u, c.request.action?.name ?? "", c.request.resource?.id ?? ""))
            got.push({ type: "user", id: u });
        }
        expect(got.sort(byId), JSON.stringify(c.request)).toEqual([...c.expected.results].sort(byId));
      }
    });

    it("resource search (18 cases)", async () => {
      const cases = json<{ evaluation: Search[] }>(`${dir}resource/results.json`).evaluation;
      expect(cases).toHaveLength(18);
      for (const c of cases) {
        const got = [];
        for (const r of records) {
          if (await allowed(c.request.subject?.id ?? "", c.request.action?.name ?? "", r))
            got.push({ type: "record", id: r });
        }
        expect(got.sort(byId), JSON.stringify(c.request)).toEqual([...c.expected.results].sort(byId));
      }
    });

    it("action search (120 cases)", async () => {
      const cases = json<{ evaluation: Search[] }>(`${dir}action/results.json`).evaluation;
      expect(cases).toHaveLength(120);
      for (const c of cases) {
        const got = [];
        for (const a of ["view", "edit", "delete"]) {
          if (await allowed(c.request.subject?.id ?? "", a, c.request.resource?.id ?? "")) got.push({ name: a });
        }
        expect(got.sort(byName), JSON.stringify(c.request)).toEqual([...c.expected.results].sort(byName));
      }
    });
  });
} else {
  it.skip("AuthZEN conformance (files missing, see the warning above)", () => {});
}
