/**
 * Policy test and golden-case files: one loader that turns each case into timed request steps, and
 * an in-process runner. The HTTP and CLI suites reuse `loadTestFile` and `caseSteps`.
 */

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import type { Detector } from "../detectors/detector.js";
import { ALL_DETECTORS } from "../detectors/registry.js";
import { ManualClock } from "../engine/clock.js";
import { createEngine } from "../engine/create-engine.js";
import { SignalboxError } from "../errors/signalbox-error.js";
import type { ControlPath } from "../model/control-path.js";
import { isControlPath } from "../model/control-path.js";
import type { Decision } from "../model/decision.js";
import { isOutcome, type Outcome } from "../model/outcome.js";
import type { JsonObject } from "../model/request.js";
import type { CompiledPolicy } from "../policy/compiled.js";
import { loadPolicy } from "../policy/load.js";
import { PolicySource, type YamlNode } from "../policy/policy-source.js";

/** What a case expects of its final decision. */
export interface CaseExpectation {
  readonly path: ControlPath;
  readonly decision?: boolean;
  readonly segment?: string;
  /** Reason codes that must be among the decision's reasons. */
  readonly reasons?: readonly string[];
  /** Detector ids that must have fired (a finding without an error). */
  readonly findings?: readonly string[];
}

export interface HistoryEntry {
  readonly request: JsonObject;
  readonly outcome?: Outcome;
  readonly repeat: number;
  /** Time between repeats and to the next entry, in ms. */
  readonly advanceMs: number;
}

export interface PolicyTestCase {
  readonly name: string;
  /** Start time, epoch ms. */
  readonly start: number;
  readonly history: readonly HistoryEntry[];
  readonly request: JsonObject;
  readonly expect: CaseExpectation;
  /** Line of the case in its file, for failure messages. */
  readonly line: number;
  /** Detectors made to fail for this case (in-process runs only), to exercise `on_error`. */
  readonly failDetectors?: readonly string[];
}

export interface PolicyTestFile {
  readonly file: string;
  /** Absolute path of the policy under test, when the file names one. */
  readonly policy?: string;
  readonly cases: readonly PolicyTestCase[];
}

/** One request to decide, at its event time, with the outcome to report or the expectation to check. */
export interface CaseStep {
  readonly request: JsonObject;
  /** Event time, epoch ms (also written to `context.time`). */
  readonly time: number;
  readonly outcome?: Outcome;
  /** Set on the last step only. */
  readonly expect?: CaseExpectation;
}

export interface CaseResult {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly passed: boolean;
  /** What differed, one line each. */
  readonly failures: readonly string[];
  readonly decision?: Decision;
}

/** Start time of a case that names none: a fixed instant keeps runs reproducible. */
export const DEFAULT_CASE_TIME = Date.parse("2026-11-02T09:00:00Z");
/** Time between history requests when an entry names no `advance`. */
export const DEFAULT_ADVANCE_MS = 60_000;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `90s`, `15m`, `1h`, `2d` into ms; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? Number.NaN);
}

function readCase(src: PolicySource, node: YamlNode, index: number, line: number): PolicyTestCase | undefined {
  const e = src.entries(node, `cases[${index}]`, [
    "name",
    "description",
    "time",
    "history",
    "request",
    "expect",
    "fail_detectors",
  ]);
  if (!e) return undefined;
  const name = e.get("name") ? src.string(e.get("name")?.value, `cases[${index}].name`) : `case ${index + 1}`;
  const where = `case "${name ?? index + 1}"`;
  let start = DEFAULT_CASE_TIME;
  const timeEntry = e.get("time");
  if (timeEntry) {
    const t = src.string(timeEntry.value, `${where}: time`);
    const parsed = t === undefined ? Number.NaN : Date.parse(t);
    if (Number.isNaN(parsed)) src.at(timeEntry.value, `${where}: time must be an RFC 3339 timestamp`);
    else start = parsed;
  }
  const history: HistoryEntry[] = [];
  const historyEntry = e.get("history");
  const entries = historyEntry ? (src.items(historyEntry.value, `${where}: history`) ?? []) : [];
  entries.forEach((h, i) => {
    const at = `${where}: history[${i}]`;
    const he = src.entries(h, at, ["request", "outcome", "repeat", "advance"]);
    if (!he) return;
    const request = objectOf(src, he.get("request")?.value, `${at}.request`, h);
    let outcome: Outcome | undefined;
    const o = he.get("outcome");
    if (o) {
      const v = src.string(o.value, `${at}.outcome`);
      if (v !== undefined && !isOutcome(v)) src.at(o.value, `${at}.outcome: unknown outcome "${v}"`);
      else outcome = v;
    }
    const r = he.get("repeat");
    const repeat = r ? (src.number(r.value, `${at}.repeat`, 1, 10_000) ?? 1) : 1;
    const a = he.get("advance");
    let advanceMs = DEFAULT_ADVANCE_MS;
    if (a) {
      const v = src.string(a.value, `${at}.advance`);
      const ms = v === undefined ? undefined : parseDuration(v);
      if (ms === undefined) src.at(a.value, `${at}.advance must be a duration like 90s, 15m, 1h or 2d`);
      else advanceMs = ms;
    }
    if (request) history.push(outcome ? { request, outcome, repeat, advanceMs } : { request, repeat, advanceMs });
  });
  const request = objectOf(src, e.get("request")?.value, `${where}: request`, node);
  const expect = readExpect(src, e.get("expect")?.value, where, node);
  const failing = e.get("fail_detectors");
  const failDetectors = failing ? stringList(src, failing.value, `${where}: fail_detectors`) : undefined;
  if (name === undefined || !request || !expect) return undefined;
  const tc: PolicyTestCase = { name, start, history, request, expect, line };
  return failDetectors ? { ...tc, failDetectors } : tc;
}

function objectOf(src: PolicySource, node: YamlNode, where: string, parent: YamlNode): JsonObject | undefined {
  if (node === undefined) {
    src.at(parent, `${where} is missing`);
    return undefined;
  }
  const json = src.toJs(node);
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    src.at(node, `${where} must be a map`);
    return undefined;
  }
  return json as JsonObject;
}

function stringList(src: PolicySource, node: YamlNode, where: string): string[] | undefined {
  const items = src.items(node, where);
  if (!items) return undefined;
  const out: string[] = [];
  for (const [i, item] of items.entries()) {
    const s = src.string(item, `${where}[${i}]`);
    if (s !== undefined) out.push(s);
  }
  return out;
}

function readExpect(src: PolicySource, node: YamlNode, where: string, parent: YamlNode): CaseExpectation | undefined {
  if (node === undefined) {
    src.at(parent, `${where}: expect is missing`);
    return undefined;
  }
  const e = src.entries(node, `${where}: expect`, ["path", "decision", "segment", "reasons", "findings"]);
  if (!e) return undefined;
  const pathEntry = e.get("path");
  if (!pathEntry) {
    src.at(node, `${where}: expect.path is required`);
    return undefined;
  }
  const path = src.string(pathEntry.value, `${where}: expect.path`);
  if (path === undefined) return undefined;
  if (!isControlPath(path)) {
    src.at(pathEntry.value, `${where}: expect.path: unknown control path "${path}"`);
    return undefined;
  }
  const out: {
    path: ControlPath;
    decision?: boolean;
    segment?: string;
    reasons?: string[];
    findings?: string[];
  } = { path };
  const d = e.get("decision");
  if (d) {
    const v = src.boolean(d.value, `${where}: expect.decision`);
    if (v !== undefined) out.decision = v;
  }
  const s = e.get("segment");
  if (s) {
    const v = src.string(s.value, `${where}: expect.segment`);
    if (v !== undefined) out.segment = v;
  }
  const r = e.get("reasons");
  if (r) {
    const v = stringList(src, r.value, `${where}: expect.reasons`);
    if (v) out.reasons = v;
  }
  const f = e.get("findings");
  if (f) {
    const v = stringList(src, f.value, `${where}: expect.findings`);
    if (v) out.findings = v;
  }
  return out;
}

/** Parses a test file's text; throws `POLICY_INVALID` listing every problem in it. */
export function parseTestFile(text: string, file: string): PolicyTestFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const src = new PolicySource(file, text, lines, doc);
  for (const e of doc.errors) src.atOffset(e.pos[0], `yaml: ${e.message.split("\n")[0] ?? e.message}`);
  const top =
    doc.errors.length > 0 ? undefined : src.entries(doc.contents as YamlNode, "the test file", ["policy", "cases"]);
  let policy: string | undefined;
  const cases: PolicyTestCase[] = [];
  if (top) {
    const p = top.get("policy");
    if (p) {
      const rel = src.string(p.value, "policy");
      if (rel !== undefined) policy = resolve(dirname(file), rel);
    }
    const c = top.get("cases");
    if (!c) src.at(doc.contents as YamlNode, 'missing required key "cases"');
    const items = c ? (src.items(c.value, "cases") ?? []) : [];
    items.forEach((node, i) => {
      const line = lines.linePos(node?.range?.[0] ?? 0).line;
      const parsed = readCase(src, node, i, line);
      if (parsed) cases.push(parsed);
    });
    const names = new Set<string>();
    for (const tc of cases) {
      if (names.has(tc.name))
        src.problems.push({
          message: `case name "${tc.name}" is used twice`,
          position: { file, line: tc.line, column: 1 },
        });
      names.add(tc.name);
    }
  }
  if (src.problems.length > 0) {
    const problems = [...src.problems].sort(
      (a, b) =>
        (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.column ?? 0) - (b.position?.column ?? 0),
    );
    throw new SignalboxError("POLICY_INVALID", `policy test file "${file}" is invalid`, { problems });
  }
  return policy === undefined ? { file, cases } : { file, policy, cases };
}

/** Reads and parses a test file. */
export async function loadTestFile(file: string): Promise<PolicyTestFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new SignalboxError("POLICY_NOT_FOUND", `cannot read policy test file "${file}": ${(err as Error).message}`);
  }
  return parseTestFile(text, resolve(file));
}

/** Stamps a request with its event time unless it carries its own; returns the request and its time. */
function timed(request: JsonObject, now: number): { request: JsonObject; time: number } {
  const context = request.context;
  if (context !== null && typeof context === "object" && !Array.isArray(context) && typeof context.time === "string") {
    const own = Date.parse(context.time);
    if (!Number.isNaN(own)) return { request, time: own };
  }
  const base = context !== null && typeof context === "object" && !Array.isArray(context) ? context : {};
  return { request: { ...request, context: { ...base, time: new Date(now).toISOString() } }, time: now };
}

/** The requests of a case in order: each history entry (repeated), then the request under test. */
export function caseSteps(tc: PolicyTestCase): CaseStep[] {
  const steps: CaseStep[] = [];
  let now = tc.start;
  for (const h of tc.history) {
    for (let i = 0; i < h.repeat; i++) {
      const t = timed(h.request, now);
      steps.push(h.outcome ? { ...t, outcome: h.outcome } : t);
      now = t.time + h.advanceMs;
    }
  }
  steps.push({ ...timed(tc.request, now), expect: tc.expect });
  return steps;
}

/** Lists how a decision differs from what the case expects; empty when it matches. */
/** What a case expectation is checked against: an engine decision, or one read back over HTTP. */
export interface ComparableDecision {
  readonly controlPath: string;
  readonly decision: boolean;
  readonly segment: string;
  readonly reasons: readonly { readonly code: string }[];
  readonly findings: readonly { readonly detector: string; readonly error?: unknown }[];
}

export function compareDecision(decision: ComparableDecision, expect: CaseExpectation): string[] {
  const out: string[] = [];
  if (decision.controlPath !== expect.path) out.push(`path: expected ${expect.path}, got ${decision.controlPath}`);
  if (expect.decision !== undefined && decision.decision !== expect.decision) {
    out.push(`decision: expected ${expect.decision}, got ${decision.decision}`);
  }
  if (expect.segment !== undefined && decision.segment !== expect.segment) {
    out.push(`segment: expected "${expect.segment}", got "${decision.segment}"`);
  }
  const codes = decision.reasons.map((r) => r.code);
  for (const code of expect.reasons ?? []) {
    if (!codes.includes(code)) out.push(`reasons: expected "${code}" among [${codes.join(", ")}]`);
  }
  const fired = decision.findings.filter((f) => !f.error).map((f) => f.detector);
  for (const id of expect.findings ?? []) {
    if (!fired.includes(id)) out.push(`findings: expected "${id}" among [${fired.join(", ")}]`);
  }
  return out;
}

export interface RunOptions {
  /** Detectors to run; default every shipped detector. */
  detectors?: readonly Detector[];
}

/** The detectors with the named ones replaced by copies that fail on the request under test. */
function withFailures(detectors: readonly Detector[], failing: readonly string[]): readonly Detector[] {
  if (failing.length === 0) return detectors;
  return detectors.map((d) =>
    failing.includes(d.id)
      ? {
          ...d,
          applies: () => true,
          detect() {
            throw new Error(`detector "${d.id}" made to fail by the test case`);
          },
        }
      : d,
  );
}

/** Runs one case on a fresh in-memory engine driven by event time. */
export async function runCase(
  policy: CompiledPolicy,
  tc: PolicyTestCase,
  file: string,
  options: RunOptions = {},
): Promise<CaseResult> {
  const clock = new ManualClock(tc.start);
  const detectors = withFailures(options.detectors ?? ALL_DETECTORS, tc.failDetectors ?? []);
  const engine = createEngine({ policy, clock, eventTime: "request", detectors });
  const base = { name: tc.name, file, line: tc.line };
  try {
    for (const step of caseSteps(tc)) {
      clock.set(step.time);
      const decision = await engine.decide(step.request);
      if (step.outcome && outcomeApplies(step.outcome, decision.controlPath)) {
        await engine.recordOutcome(decision.id, step.outcome);
      }
      if (step.expect) {
        const failures = compareDecision(decision, step.expect);
        return { ...base, passed: failures.length === 0, failures, decision };
      }
    }
    return { ...base, passed: false, failures: ["the case has no request under test"] };
  } catch (err) {
    return { ...base, passed: false, failures: [`error: ${err instanceof Error ? err.message : String(err)}`] };
  } finally {
    await engine.close();
  }
}

/**
 * Runs every case of a test file against its policy (or `policy` when given, e.g. for golden
 * cases that name none).
 */
export async function runTestFile(
  test: PolicyTestFile,
  options: RunOptions & { policy?: CompiledPolicy } = {},
): Promise<CaseResult[]> {
  const policy = options.policy ?? (test.policy ? await loadPolicy(test.policy) : undefined);
  if (!policy) {
    throw new SignalboxError(
      "POLICY_INVALID",
      `policy test file "${test.file}" names no policy (add \`policy: FILE\`)`,
    );
  }
  const results: CaseResult[] = [];
  for (const tc of test.cases) results.push(await runCase(policy, tc, test.file, options));
  return results;
}

/**
 * Whether a history entry's outcome is reported for a decision: the answer to a challenge
 * (`step_up_*`, `approved`, `rejected`) only when the decision asked for one, as a real sender
 * would; `confirmed_compromise` and `false_positive` whatever the path.
 */
export function outcomeApplies(outcome: Outcome, path: ControlPath): boolean {
  switch (outcome) {
    case "step_up_passed":
    case "step_up_failed":
      return path === "step_up";
    case "approved":
    case "rejected":
      return path === "hold";
    case "confirmed_compromise":
    case "false_positive":
      return true;
  }
}
