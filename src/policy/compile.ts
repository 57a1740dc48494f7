/** Compiles policy YAML into a `CompiledPolicy`, reporting every problem with its file, line and column. */

import { dirname, resolve } from "node:path";
import { type Document, isMap, isScalar, LineCounter, parseDocument, parse as parseYaml, type Scalar } from "yaml";
import type { Problem } from "../errors/signalbox-error.js";
import { SignalboxError } from "../errors/signalbox-error.js";
import { type BandBounds, DEFAULT_BAND_BOUNDS } from "../model/band.js";
import { CONTROL_PATHS, type ControlPath, isControlPath } from "../model/control-path.js";
import type { Reason } from "../model/decision.js";
import type { JsonObject, JsonValue } from "../model/request.js";
import type { CompiledPolicy, CompiledRule, CompiledSegment, Condition, LadderStep, PathSettings } from "./compiled.js";
import { ALWAYS, type ConditionScope, compileCondition } from "./condition.js";
import { KNOWN_DETECTOR_IDS } from "./detector-ids.js";
import { isPathSettingName, PATH_SETTING_NAMES, PATH_SETTINGS } from "./path-settings.js";
import { type Entries, PolicySource, suggestion, type YamlNode } from "./policy-source.js";
import type { SearchCollection, SearchSettings } from "./search.js";

/** The format version this compiler reads. */
export const POLICY_FORMAT = "policy/v1";

export interface CompileOptions {
  /** Reads a file the policy references (the entities file); throws when it cannot. */
  readFile(path: string): string;
  /** Detector ids a policy may name. Default: every shipped detector. */
  knownDetectors?: readonly string[];
}

const TOP_KEYS = [
  "signalbox",
  "id",
  "revision",
  "description",
  "bands",
  "entities",
  "search",
  "detectors",
  "paths",
  "segments",
];
const SEGMENT_KEYS = [
  "name",
  "description",
  "when",
  "detectors",
  "weights",
  "authorize",
  "otherwise",
  "ladder",
  "rules",
  "on_error",
  "paths",
];
const RULE_KEYS = ["id", "description", "when", "path", "reason", "obligations"];
const GRANT_KEYS = ["id", "description", "when"];
const NAME = /^[a-z0-9_-]+$/;
const CODE = /^[a-z][a-z0-9_]*$/;

const NOT_AUTHORIZED: Reason = { code: "not_authorized", message: "no authorization grant matches the request" };

interface Analysis {
  policy?: CompiledPolicy;
  problems: Problem[];
  /** A referenced file could not be read (`POLICY_NOT_FOUND` rather than `POLICY_INVALID`). */
  missingFile: boolean;
}

class PolicyCompiler {
  readonly src: PolicySource;
  private readonly doc: Document;
  private readonly known: readonly string[];
  private readonly disabled = new Set<string>();
  missingFile = false;

  constructor(
    text: string,
    private readonly file: string,
    private readonly options: CompileOptions,
  ) {
    const lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    this.src = new PolicySource(file, text, lines, this.doc);
    this.known = options.knownDetectors ?? KNOWN_DETECTOR_IDS;
  }

  condition(node: YamlNode, where: string, scope: ConditionScope): Condition | undefined {
    if (node === undefined || node === null) return ALWAYS;
    if (isScalar(node) && typeof node.value === "boolean")
      return node.value ? ALWAYS : compileCondition("false", scope).condition;
    const source = this.src.string(node, where);
    if (source === undefined) return undefined;
    const compiled = compileCondition(source, scope);
    if (compiled.problem) {
      const offset = this.src.offsetInScalar(node as Scalar, compiled.problem.start ?? 0);
      this.src.atOffset(offset, `${where}: ${compiled.problem.message}`);
      return undefined;
    }
    return compiled.condition;
  }

  controlPath(node: YamlNode, where: string): ControlPath | undefined {
    const value = this.src.string(node, where);
    if (value === undefined) return undefined;
    if (isControlPath(value)) return value;
    this.src.at(node, `${where}: unknown control path "${value}"${suggestion(value, CONTROL_PATHS)}`);
    return undefined;
  }

  detectorId(node: YamlNode, where: string): string | undefined {
    const id = this.src.string(node, where);
    if (id === undefined) return undefined;
    if (this.known.includes(id)) return id;
    this.src.at(node, `${where}: unknown detector "${id}"${suggestion(id, this.known)}`);
    return undefined;
  }

  json(node: YamlNode): JsonValue {
    return this.src.toJs(node) as JsonValue;
  }

  compile(): CompiledPolicy | undefined {
    const doc = this.doc;
    for (const e of doc.errors) this.src.atOffset(e.pos[0], `yaml: ${e.message.split("\n")[0] ?? e.message}`);
    if (doc.errors.length > 0) return undefined;
    const top = this.src.entries(doc.contents as YamlNode, "the policy", TOP_KEYS);
    if (!top) return undefined;

    const version = top.get("signalbox");
    if (!version) this.src.at(doc.contents as YamlNode, `missing "signalbox: ${POLICY_FORMAT}" (the format version)`);
    else {
      const v = this.src.string(version.value, "signalbox");
      if (v !== undefined && v !== POLICY_FORMAT)
        this.src.at(version.value, `unsupported format "${v}": this version reads "${POLICY_FORMAT}"`);
    }
    const id = this.required(top, "id", doc.contents as YamlNode, (n) => this.src.string(n, "id"));
    const revision = this.required(top, "revision", doc.contents as YamlNode, (n) => this.src.string(n, "revision"));
    const description = this.optionalString(top, "description", "description") ?? "";
    const bands = this.bands(top.get("bands")?.value);
    const entities = this.entities(top.get("entities")?.value);
    const search = this.search(top.get("search")?.value, entities);
    const detectorParams = this.detectorParams(top.get("detectors")?.value);
    const policyPaths = this.pathSettings(top.get("paths")?.value, "paths");
    const segments = this.segments(top.get("segments"), doc.contents as YamlNode, policyPaths);

    if (this.src.problems.length > 0 || id === undefined || revision === undefined || !segments) return undefined;
    return deepFreeze({
      id,
      revision,
      description,
      file: this.file,
      bands,
      segments,
      entities,
      detectorParams,
      ...(search ? { search } : {}),
    });
  }

  required<T>(
    entries: Entries,
    key: string,
    parent: YamlNode,
    read: (n: YamlNode) => T | undefined,
    where?: string,
  ): T | undefined {
    const entry = entries.get(key);
    if (!entry) {
      this.src.at(parent, `${where === undefined ? "" : `${where}: `}missing required key "${key}"`);
      return undefined;
    }
    return read(entry.value);
  }

  optionalString(entries: Entries, key: string, where: string): string | undefined {
    const entry = entries.get(key);
    return entry ? this.src.string(entry.value, where) : undefined;
  }

  bands(node: YamlNode): BandBounds {
    if (node === undefined) return DEFAULT_BAND_BOUNDS;
    const e = this.src.entries(node, "bands", ["medium", "high", "critical"]);
    if (!e) return DEFAULT_BAND_BOUNDS;
    const read = (k: keyof BandBounds) => {
      const entry = e.get(k);
      return entry
        ? (this.src.number(entry.value, `bands.${k}`, 0, 100) ?? DEFAULT_BAND_BOUNDS[k])
        : DEFAULT_BAND_BOUNDS[k];
    };
    const bands = { medium: read("medium"), high: read("high"), critical: read("critical") };
    if (!(bands.medium < bands.high && bands.high < bands.critical)) {
      this.src.at(
        node,
        `bands must ascend: medium (${bands.medium}) < high (${bands.high}) < critical (${bands.critical})`,
      );
    }
    return bands;
  }

  entities(node: YamlNode): Record<string, JsonValue> {
    if (node === undefined) return {};
    const rel = this.src.string(node, "entities");
    if (rel === undefined) return {};
    const path = resolve(dirname(this.file), rel);
    let text: string;
    try {
      text = this.options.readFile(path);
    } catch (err) {
      this.missingFile = true;
      this.src.at(node, `entities: cannot read "${rel}": ${err instanceof Error ? err.message : String(err)}`);
      return {};
    }
    let data: unknown;
    try {
      data = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      this.src.at(
        node,
        `entities: "${rel}" is not valid ${/\.json$/i.test(path) ? "JSON" : "YAML"}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
      );
      return {};
    }
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      this.src.at(node, `entities: "${rel}" must hold an object (a map of entity collections)`);
      return {};
    }
    return data as Record<string, JsonValue>;
  }

  /** The `search:` section: AuthZEN types mapped to entity collections that exist, and action names. */
  search(node: YamlNode, entities: Record<string, JsonValue>): SearchSettings | undefined {
    if (node === undefined) return undefined;
    const e = this.src.entries(node, "search", ["subjects", "resources", "actions"]);
    if (!e) return undefined;
    const types = (key: "subjects" | "resources"): Record<string, SearchCollection> => {
      const out: Record<string, SearchCollection> = {};
      const entry = e.get(key);
      const map = entry ? this.src.anyEntries(entry.value, `search.${key}`) : undefined;
      for (const [type, { value }] of map ?? []) {
        const where = `search.${key}.${type}`;
        const long = this.src.deref(value);
        const fields = isMap(long) ? this.src.entries(long, where, ["entities", "properties"]) : undefined;
        const name = fields
          ? this.required(fields, "entities", long, (n) => this.src.string(n, `${where}.entities`), where)
          : this.src.string(value, where);
        const propertiesEntry = fields?.get("properties");
        const properties = propertiesEntry ? this.src.string(propertiesEntry.value, `${where}.properties`) : undefined;
        if (name === undefined) continue;
        const data = entities[name];
        if (data === null || typeof data !== "object" || Array.isArray(data)) {
          this.src.at(value, `${where}: the entities file has no collection "${name}" (a map of entities by id)`);
          continue;
        }
        out[type] = properties === undefined ? { entities: name } : { entities: name, properties };
      }
      return out;
    };
    const actions: string[] = [];
    const actionsEntry = e.get("actions");
    const items = actionsEntry ? this.src.items(actionsEntry.value, "search.actions") : undefined;
    for (const [i, item] of (items ?? []).entries()) {
      const name = this.src.string(item, `search.actions[${i}]`);
      if (name !== undefined && !actions.includes(name)) actions.push(name);
    }
    return { subjects: types("subjects"), resources: types("resources"), actions };
  }

  detectorParams(node: YamlNode): Record<string, Record<string, JsonValue>> {
    const out: Record<string, Record<string, JsonValue>> = {};
    if (node === undefined) return out;
    const e = this.src.anyEntries(node, "detectors");
    if (!e) return out;
    for (const [id, { key, value }] of e) {
      if (!this.known.includes(id)) {
        this.src.at(key, `detectors: unknown detector "${id}"${suggestion(id, this.known)}`);
        continue;
      }
      const params = this.src.anyEntries(value, `detectors.${id}`);
      if (!params) continue;
      const points = params.get("points");
      if (points) this.src.number(points.value, `detectors.${id}.points`, 0, 100);
      const enabled = params.get("enabled");
      if (enabled && this.src.boolean(enabled.value, `detectors.${id}.enabled`) === false) this.disabled.add(id);
      out[id] = this.json(value) as Record<string, JsonValue>;
    }
    return out;
  }

  pathSettings(node: YamlNode, where: string): Record<string, JsonObject> {
    const out: Record<string, JsonObject> = {};
    if (node === undefined) return out;
    const e = this.src.entries(node, where, PATH_SETTING_NAMES);
    if (!e) return out;
    for (const [name, { value }] of e) {
      if (!isPathSettingName(name)) continue;
      const schema = PATH_SETTINGS[name];
      const settings = this.src.entries(value, `${where}.${name}`, Object.keys(schema));
      if (!settings) continue;
      for (const [k, { value: v }] of settings) {
        const at = `${where}.${name}.${k}`;
        switch (schema[k]) {
          case "string":
            this.src.string(v, at);
            break;
          case "number":
            this.src.number(v, at, 0);
            break;
          case "boolean":
            this.src.boolean(v, at);
            break;
          case "string-list": {
            const items = this.src.items(v, at);
            for (const [i, item] of (items ?? []).entries()) this.src.string(item, `${at}[${i}]`);
            break;
          }
          case undefined:
            break;
        }
      }
      out[name] = this.json(value) as JsonObject;
    }
    return out;
  }

  segments(
    entry: { key: Scalar; value: YamlNode } | undefined,
    parent: YamlNode,
    policyPaths: Record<string, JsonObject>,
  ): CompiledSegment[] | undefined {
    if (!entry) {
      this.src.at(parent, `missing required key "segments"`);
      return undefined;
    }
    const items = this.src.items(entry.value, "segments");
    if (!items) return undefined;
    if (items.length === 0) {
      this.src.at(entry.value, "segments: a policy needs at least one segment");
      return undefined;
    }
    const names = new Set<string>();
    const out: CompiledSegment[] = [];
    items.forEach((node, i) => {
      const segment = this.segment(node, i, names, policyPaths);
      if (segment) out.push(segment);
      const isLast = i === items.length - 1;
      const catchAll =
        isMap(node) &&
        (node.get("when", true) === undefined ||
          (isScalar(node.get("when", true)) && (node.get("when", true) as Scalar).value === "true"));
      if (isLast && !catchAll) {
        this.src.at(node, "segments: the last segment must be a catch-all (no `when`), so every request has a segment");
      } else if (!isLast && catchAll) {
        this.src.at(node, `segments: segment ${i + 1} has no \`when\`, so the segments after it can never be chosen`);
      }
    });
    return out;
  }

  segment(
    node: YamlNode,
    index: number,
    names: Set<string>,
    policyPaths: Record<string, JsonObject>,
  ): CompiledSegment | undefined {
    const declared = isMap(node) ? node.get("name") : undefined;
    const where0 = typeof declared === "string" ? `segment "${declared}"` : `segments[${index}]`;
    const e = this.src.entries(node, where0, SEGMENT_KEYS);
    if (!e) return undefined;
    const name = this.required(e, "name", node, (n) => this.src.string(n, `${where0}.name`), where0);
    if (name !== undefined) {
      const nameNode = e.get("name")?.value;
      if (!NAME.test(name)) this.src.at(nameNode, `segment name "${name}" must match [a-z0-9_-]+`);
      if (names.has(name)) this.src.at(nameNode, `segment name "${name}" is used twice`);
      names.add(name);
    }
    const where = name === undefined ? where0 : `segment "${name}"`;
    const description = this.optionalString(e, "description", `${where}: description`) ?? "";
    const when = this.condition(e.get("when")?.value, `${where}: when`, "request");
    const detectors = this.segmentDetectors(e.get("detectors")?.value, where);
    const weights = this.weights(e.get("weights")?.value, where);
    const authorize = this.authorize(e, where);
    const ladder = this.ladder(e.get("ladder")?.value, where);
    const rules = this.rules(e.get("rules")?.value, where);
    const onError = this.required(e, "on_error", node, (n) => this.controlPath(n, `${where}: on_error`), where);
    const own = this.pathSettings(e.get("paths")?.value, `${where}: paths`);
    if (!e.has("ladder") && !e.has("authorize")) {
      this.src.at(node, `${where} needs a \`ladder\` or \`authorize\`: otherwise every request it gets is allowed`);
    }
    if (name === undefined || !when || onError === undefined) return undefined;
    const paths: Record<string, JsonObject> = { ...policyPaths };
    for (const [k, v] of Object.entries(own)) paths[k] = { ...(policyPaths[k] ?? {}), ...v };
    const segment: CompiledSegment = {
      name,
      description,
      when,
      detectors,
      weights,
      ladder,
      rules,
      onError,
      paths: paths as PathSettings,
    };
    return authorize ? { ...segment, authorize } : segment;
  }

  segmentDetectors(node: YamlNode, where: string): string[] {
    const enabled = this.known.filter((id) => !this.disabled.has(id));
    if (node === undefined || node === null) return enabled;
    if (isScalar(node) && node.value === "all") return enabled;
    if (isScalar(node) && node.value === "none") return [];
    if (isScalar(node)) {
      this.src.at(node, `${where}: detectors must be "all", "none" or a list of detector ids`);
      return [];
    }
    const items = this.src.items(node, `${where}: detectors`) ?? [];
    const out: string[] = [];
    for (const item of items) {
      const id = this.detectorId(item, `${where}: detectors`);
      if (id === undefined) continue;
      if (this.disabled.has(id))
        this.src.at(item, `${where}: detector "${id}" is disabled (enabled: false) in \`detectors:\``);
      else if (out.includes(id)) this.src.at(item, `${where}: detector "${id}" is listed twice`);
      else out.push(id);
    }
    return out;
  }

  weights(node: YamlNode, where: string): Record<string, number> {
    const out: Record<string, number> = {};
    if (node === undefined) return out;
    const e = this.src.anyEntries(node, `${where}: weights`);
    if (!e) return out;
    for (const [id, { key, value }] of e) {
      if (!this.known.includes(id)) {
        this.src.at(key, `${where}: weights: unknown detector "${id}"${suggestion(id, this.known)}`);
        continue;
      }
      const w = this.src.number(value, `${where}: weights.${id}`, 0, 10);
      if (w !== undefined) out[id] = w;
    }
    return out;
  }

  authorize(e: Entries, where: string): CompiledSegment["authorize"] | undefined {
    const grants = e.get("authorize");
    const otherwiseEntry = e.get("otherwise");
    if (!grants) {
      if (otherwiseEntry) this.src.at(otherwiseEntry.key, `${where}: \`otherwise\` needs \`authorize\` grants`);
      return undefined;
    }
    const otherwise = otherwiseEntry ? this.controlPath(otherwiseEntry.value, `${where}: otherwise`) : "deny";
    const items = this.src.items(grants.value, `${where}: authorize`) ?? [];
    const ids = new Set<string>();
    const rules: CompiledRule[] = [];
    items.forEach((node, i) => {
      const at = `${where}: authorize[${i}]`;
      const g = this.src.entries(node, at, GRANT_KEYS);
      if (!g) return;
      const id = this.required(g, "id", node, (n) => this.src.string(n, `${at}.id`), at);
      if (id !== undefined && ids.has(id)) this.src.at(g.get("id")?.value, `${where}: grant id "${id}" is used twice`);
      if (id !== undefined) ids.add(id);
      const gw = id === undefined ? at : `${where}: grant "${id}"`;
      const when = this.condition(g.get("when")?.value, `${gw}: when`, "request");
      if (id === undefined || !when) return;
      rules.push({ id, when, path: "allow", reason: { code: "authorized", message: `granted by "${id}"` } });
    });
    if (otherwise === undefined) return undefined;
    return { rules, otherwise, reason: NOT_AUTHORIZED };
  }

  ladder(node: YamlNode, where: string): LadderStep[] {
    if (node === undefined) return [];
    const items = this.src.items(node, `${where}: ladder`) ?? [];
    const out: LadderStep[] = [];
    items.forEach((item, i) => {
      const at = `${where}: ladder[${i}]`;
      const s = this.src.entries(item, at, ["at", "path"]);
      if (!s) return;
      const score = this.required(s, "at", item, (n) => this.src.number(n, `${at}.at`, 0, 100), at);
      const path = this.required(s, "path", item, (n) => this.controlPath(n, `${at}.path`), at);
      if (score === undefined || path === undefined) return;
      const prev = out[out.length - 1];
      if (i === 0 && score !== 0)
        this.src.at(s.get("at")?.value, `${at}: the first step must be at 0 so every score has a path`);
      if (prev && score <= prev.at)
        this.src.at(s.get("at")?.value, `${at}: steps must ascend (${score} after ${prev.at})`);
      out.push({ at: score, path });
    });
    if (items.length === 0) this.src.at(node, `${where}: ladder needs at least one step`);
    return out;
  }

  rules(node: YamlNode, where: string): CompiledRule[] {
    if (node === undefined) return [];
    const items = this.src.items(node, `${where}: rules`) ?? [];
    const ids = new Set<string>();
    const out: CompiledRule[] = [];
    items.forEach((item, i) => {
      const at = `${where}: rules[${i}]`;
      const r = this.src.entries(item, at, RULE_KEYS);
      if (!r) return;
      const id = this.required(r, "id", item, (n) => this.src.string(n, `${at}.id`), at);
      if (id !== undefined && ids.has(id)) this.src.at(r.get("id")?.value, `${where}: rule id "${id}" is used twice`);
      if (id !== undefined) ids.add(id);
      const rw = id === undefined ? at : `${where}: rule "${id}"`;
      const whenEntry = r.get("when");
      if (!whenEntry)
        this.src.at(item, `${rw}: missing required key "when" (a rule without a condition would always apply)`);
      const when = whenEntry ? this.condition(whenEntry.value, `${rw}: when`, "rule") : undefined;
      const path = this.required(r, "path", item, (n) => this.controlPath(n, `${rw}: path`), rw);
      const reason = this.required(r, "reason", item, (n) => this.reason(n, rw), rw);
      const obligationsEntry = r.get("obligations");
      const obligations = obligationsEntry
        ? this.src.anyEntries(obligationsEntry.value, `${rw}: obligations`)
        : undefined;
      if (id === undefined || !when || path === undefined || !reason) return;
      const rule: CompiledRule = { id, when, path, reason };
      out.push(
        obligations && obligationsEntry
          ? { ...rule, obligations: this.json(obligationsEntry.value) as JsonObject }
          : rule,
      );
    });
    return out;
  }

  reason(node: YamlNode, where: string): Reason | undefined {
    const r = this.src.entries(node, `${where}: reason`, ["code", "message"]);
    if (!r) return undefined;
    const code = this.required(r, "code", node, (n) => this.src.string(n, `${where}: reason.code`), `${where}: reason`);
    const message = this.required(
      r,
      "message",
      node,
      (n) => this.src.string(n, `${where}: reason.message`),
      `${where}: reason`,
    );
    if (code !== undefined && !CODE.test(code)) {
      this.src.at(r.get("code")?.value, `${where}: reason code "${code}" must be snake_case ([a-z][a-z0-9_]*)`);
      return undefined;
    }
    return code === undefined || message === undefined ? undefined : { code, message };
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function analyse(text: string, file: string, options: CompileOptions): Analysis {
  const compiler = new PolicyCompiler(text, file, options);
  const policy = compiler.compile();
  const problems = [...compiler.src.problems].sort(
    (a, b) =>
      (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.column ?? 0) - (b.position?.column ?? 0),
  );
  return policy && problems.length === 0
    ? { policy, problems, missingFile: false }
    : { problems, missingFile: compiler.missingFile };
}

/** Every problem in a policy, in source order; empty when the policy compiles. */
export function checkPolicy(text: string, file: string, options: CompileOptions): Problem[] {
  return analyse(text, file, options).problems;
}

/**
 * Compiles a policy. Pure: the only file it reads (the entities file) comes through
 * `options.readFile`. Throws `POLICY_INVALID` with every problem, or `POLICY_NOT_FOUND` when a
 * referenced file cannot be read.
 */
export function compilePolicy(text: string, file: string, options: CompileOptions): CompiledPolicy {
  const { policy, problems, missingFile } = analyse(text, file, options);
  if (policy) return policy;
  const first = problems[0];
  const summary = first?.position
    ? `${first.position.file}:${first.position.line}:${first.position.column}: ${first.message}`
    : (first?.message ?? "unknown problem");
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  throw new SignalboxError(
    missingFile ? "POLICY_NOT_FOUND" : "POLICY_INVALID",
    `policy "${file}" does not compile: ${summary}${more}`,
    { problems },
  );
}
