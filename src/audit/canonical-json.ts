/** Canonical JSON: one byte-exact text per value (object keys sorted), so a hash over it is stable. */

/**
 * Serialises a JSON-compatible value with object keys sorted at every level. `undefined` members are
 * left out and non-finite numbers become `null`, exactly as `JSON.stringify` does, so a value that
 * went through a JSON round trip serialises to the same text as before. Like every earlier version,
 * it reads own enumerable keys only and never calls `toJSON`: stored hashes depend on that.
 *
 * @example canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }) // '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      // String() and JSON.stringify agree on every finite number (-0 included).
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      return Array.isArray(value) ? canonicalArray(value) : canonicalObject(value as Record<string, unknown>);
    default:
      // undefined, functions and symbols become null; bigint throws, as JSON.stringify does.
      return JSON.stringify(value) ?? "null";
  }
}

function canonicalArray(value: readonly unknown[]): string {
  let out = "[";
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out += ",";
    const item: unknown = value[i];
    out += item === undefined || typeof item === "function" ? "null" : canonicalJson(item);
  }
  return `${out}]`;
}

function canonicalObject(obj: Record<string, unknown>): string {
  const keys = Object.keys(obj);
  // Records built by Signalbox mostly list keys in order already: checking is cheaper than sorting.
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      // Default sort compares UTF-16 code units, the same order as `>` and on every platform.
      keys.sort();
      break;
    }
  }
  let out = "{";
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || typeof v === "function") continue;
    if (out.length > 1) out += ",";
    out += memberName(k);
    out += canonicalJson(v);
  }
  return `${out}}`;
}

/** Quoted member names with their colon; request keys are caller-chosen, so the cache is bounded. */
const names = new Map<string, string>();
const MAX_NAMES = 2048;

function memberName(key: string): string {
  let name = names.get(key);
  if (name === undefined) {
    name = `${JSON.stringify(key)}:`;
    if (names.size < MAX_NAMES) names.set(key, name);
  }
  return name;
}
