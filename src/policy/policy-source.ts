/** Reads a policy's YAML tree with positions, collecting every problem instead of stopping at the first. */

import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Scalar } from "yaml";
import type { Problem } from "../errors/signalbox-error.js";

export type YamlNode = Node | null | undefined;

/** A map's entries by key, each with the node of its key (for positions) and of its value. */
export type Entries = ReadonlyMap<string, { key: Scalar; value: YamlNode }>;

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j] ?? 0;
      row[j] = Math.min(here + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length] ?? 0;
}

/** A "did you mean" hint for a misspelt name, when one known name is close. */
export function suggestion(name: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3))
    ? ` (did you mean "${best}"?)`
    : "";
}

export class PolicySource {
  readonly problems: Problem[] = [];

  constructor(
    readonly file: string,
    readonly text: string,
    private readonly lines: LineCounter,
    private readonly doc?: Document,
  ) {}

  /** Follows a YAML alias (`*name`) to the node its anchor names. */
  deref(node: YamlNode): YamlNode {
    if (isAlias(node) && this.doc) return (node.resolve(this.doc) as Node | undefined) ?? node;
    return node;
  }

  /** The plain JavaScript value of a node, aliases resolved. */
  toJs(node: YamlNode): unknown {
    const n = this.deref(node);
    if (n === null || n === undefined) return null;
    return this.doc ? n.toJS(this.doc) : n.toJSON();
  }

  /** Records a problem at a source offset. */
  atOffset(offset: number, message: string, path?: string): void {
    const { line, col } = this.lines.linePos(Math.max(0, Math.min(offset, this.text.length)));
    const problem: Problem = { message, position: { file: this.file, line, column: col } };
    this.problems.push(path === undefined ? problem : { ...problem, path });
  }

  /** Records a problem at a node (or at the start of the file when there is no node). */
  at(node: YamlNode, message: string, path?: string): void {
    this.atOffset(node?.range?.[0] ?? 0, message, path);
  }

  /**
   * The source offset of character `index` of a scalar's value, when the scalar is written so that
   * the value maps one to one onto the source (plain, or quoted without escapes); otherwise the
   * scalar's own start.
   */
  offsetInScalar(node: Scalar, index: number): number {
    const [start, end] = node.range ?? [0, 0];
    const raw = this.text.slice(start, end);
    const value = String(node.value);
    if (node.type === "PLAIN" && raw === value) return start + index;
    if ((node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE") && raw.slice(1, -1) === value) {
      return start + 1 + index;
    }
    if (node.type === "BLOCK_LITERAL" || node.type === "BLOCK_FOLDED") {
      // A block scalar keeps its lines; find the value's line in the source to point into it.
      const before = value.slice(0, index);
      const lineNo = before.split("\n").length - 1;
      const column = before.length - before.lastIndexOf("\n") - 1;
      const lineText = value.split("\n")[lineNo] ?? "";
      const found = lineText.length > 0 ? raw.indexOf(lineText) : -1;
      if (found >= 0 && node.type === "BLOCK_LITERAL") return start + found + column;
    }
    return start;
  }

  /** The entries of a map node; reports a non-map and every key outside `allowed`. */
  entries(node0: YamlNode, where: string, allowed: readonly string[]): Entries | undefined {
    const node = this.deref(node0);
    if (!isMap(node)) {
      this.at(node, `${where} must be a map`);
      return undefined;
    }
    const out = new Map<string, { key: Scalar; value: YamlNode }>();
    for (const pair of node.items) {
      const key = pair.key;
      if (!isScalar(key) || typeof key.value !== "string") {
        this.at(isScalar(key) ? key : node, `${where}: keys must be strings`);
        continue;
      }
      if (allowed.length > 0 && !allowed.includes(key.value)) {
        this.at(key, `${where}: unknown key "${key.value}"${suggestion(key.value, allowed)}`);
        continue;
      }
      out.set(key.value, { key, value: this.deref(pair.value as YamlNode) });
    }
    return out;
  }

  /** Every entry of a map node, whatever its keys. */
  anyEntries(node: YamlNode, where: string): Entries | undefined {
    return this.entries(node, where, []);
  }

  string(node: YamlNode, where: string): string | undefined {
    if (isScalar(node) && typeof node.value === "string") return node.value;
    this.at(node, `${where} must be a string`);
    return undefined;
  }

  number(node: YamlNode, where: string, min?: number, max?: number): number | undefined {
    if (!isScalar(node) || typeof node.value !== "number" || !Number.isFinite(node.value)) {
      this.at(node, `${where} must be a number`);
      return undefined;
    }
    const v = node.value;
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) {
      this.at(node, `${where} must be between ${min ?? "-∞"} and ${max ?? "∞"}, not ${v}`);
      return undefined;
    }
    return v;
  }

  boolean(node: YamlNode, where: string): boolean | undefined {
    if (isScalar(node) && typeof node.value === "boolean") return node.value;
    this.at(node, `${where} must be true or false`);
    return undefined;
  }

  /** The items of a sequence node; reports anything else. */
  items(node0: YamlNode, where: string): readonly YamlNode[] | undefined {
    const node = this.deref(node0);
    if (isSeq(node)) return (node.items as YamlNode[]).map((item) => this.deref(item));
    this.at(node, `${where} must be a list`);
    return undefined;
  }
}
