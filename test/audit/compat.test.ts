/**
 * The faster record path writes exactly what the earlier one wrote: a chain stored before the
 * change still verifies, and the same entries produce the same bytes and hashes.
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/audit/canonical-json.js";
import { chainRecordWithBody } from "../../src/audit/chain.js";
import { ChainedAuditTrail } from "../../src/audit/chained-trail.js";
import { decisionRow } from "../../src/audit/decision-row.js";
import { createMasker, DEFAULT_MASK, maskRequest, maskValue } from "../../src/audit/mask.js";
import type { DecisionEntry, OutcomeEntry } from "../../src/audit/port.js";
import { decisionRecord } from "../../src/audit/record.js";
import { SqliteAuditBackend } from "../../src/audit/sqlite-backend.js";
import type { AuditBackend, StoredRow } from "../../src/audit/store.js";
import { rowOfRecord } from "../../src/audit/stored-row.js";
import { verifyChain } from "../../src/audit/verify-chain.js";
import type { JsonObject, JsonValue } from "../../src/model/request.js";
import { makeEntry } from "./fixtures.js";

/**
 * A chain written by the record code as it was before the fast path (canonical JSON with a sort per
 * object, masking over a deep copy, record objects spread into the chain): odd keys, escapes,
 * numbers, masked objects and arrays, a shadow decision, an outcome and two checkpoints.
 */
interface Fixture {
  readonly options: {
    readonly writerId: string;
    readonly maskKey: string;
    readonly mask: string[];
    readonly now: number;
    readonly checkpoints: { readonly every: number };
  };
  readonly entries: DecisionEntry[];
  readonly outcomes: OutcomeEntry[];
  readonly rows: StoredRow[];
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/chain-v1.json", import.meta.url), "utf8")) as Fixture;

/** The canonical JSON as first written (one sort per object), kept as the oracle. */
function referenceCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) {
    return `[${value.map((item: unknown) => (item === undefined || typeof item === "function" ? "null" : referenceCanonicalJson(item))).join(",")}]`;
  }
  const obj = value as Record<string, unknown>;
  const members: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v === undefined || typeof v === "function") continue;
    members.push(`${JSON.stringify(k)}:${referenceCanonicalJson(v)}`);
  }
  return `{${members.join(",")}}`;
}

/** Masking as first written: a deep copy, then each path masked in place. */
function referenceMask(request: JsonObject, paths: readonly string[], key: string): JsonObject {
  const copy = structuredClone(request);
  for (const path of paths) {
    let node: JsonObject = copy;
    const segments = path.split(".");
    for (let i = 0; i < segments.length; i++) {
      const head = segments[i] as string;
      if (!Object.hasOwn(node, head)) break;
      const value = node[head];
      if (value === undefined || value === null) break;
      if (i === segments.length - 1) {
        node[head] = maskValue(key, value);
        break;
      }
      if (typeof value !== "object" || Array.isArray(value)) break;
      node = value;
    }
  }
  return copy;
}

async function writeFixtureChain(backend: AuditBackend): Promise<StoredRow[]> {
  const { options, entries, outcomes } = fixture;
  const trail = await ChainedAuditTrail.open(backend, { ...options, now: () => options.now });
  for (const e of entries.slice(0, 3)) await trail.recordDecision(e);
  for (const o of outcomes) await trail.recordOutcome(o);
  for (const e of entries.slice(3)) await trail.recordDecision(e);
  await trail.checkpoint();
  const rows: StoredRow[] = [];
  for await (const row of trail.iterate()) rows.push(row);
  await trail.close();
  return rows;
}

describe("records written before the fast path", () => {
  it("still verify", async () => {
    const backend = await SqliteAuditBackend.open({ file: ":memory:" });
    await backend.append(fixture.rows);
    const result = await verifyChain(backend);
    expect(result.firstBroken).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.checked).toBe(fixture.rows.length);
    await backend.close();
  });

  it("are reproduced byte for byte from the same entries", async () => {
    const rows = await writeFixtureChain(await SqliteAuditBackend.open({ file: ":memory:" }));
    expect(rows.map((r) => r.kind)).toEqual(fixture.rows.map((r) => r.kind));
    expect(rows).toEqual(fixture.rows);
  });

  it("are reproduced byte for byte when the writer thread builds the rows", async () => {
    const dir = mkdtempSync(join(tmpdir(), "signalbox-audit-compat-"));
    try {
      const rows = await writeFixtureChain(await SqliteAuditBackend.open({ file: join(dir, "audit.db") }));
      expect(rows).toEqual(fixture.rows);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("are reproduced byte for byte when the trail builds the rows (backends without a builder)", async () => {
    const sqlite = await SqliteAuditBackend.open({ file: ":memory:" });
    // The same store seen without its builder: the trail chains on the main thread, as for PostgreSQL.
    const rowsOnly: AuditBackend = {
      kind: sqlite.kind,
      pipelined: sqlite.pipelined,
      meta: (k, f) => sqlite.meta(k, f),
      head: (w) => sqlite.head(w),
      append: (rows, o) => sqlite.append(rows, o),
      rowsForDecision: (id) => sqlite.rowsForDecision(id),
      query: (f, c, l) => sqlite.query(f, c, l),
      iterate: (w) => sqlite.iterate(w),
      writers: () => sqlite.writers(),
      anchors: (w) => sqlite.anchors(w),
      retain: (b, build) => sqlite.retain(b, build),
      close: () => sqlite.close(),
    };
    expect(await writeFixtureChain(rowsOnly)).toEqual(fixture.rows);
  });

  it("still report tampering", async () => {
    const backend = await SqliteAuditBackend.open({ file: ":memory:" });
    const tampered = fixture.rows.map((r) =>
      r.seq === 2 ? { ...r, body: r.body.replace('"score":14', '"score":15') } : r,
    );
    expect(tampered[1]?.body).not.toBe(fixture.rows[1]?.body);
    await backend.append(tampered);
    const result = await verifyChain(backend);
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ seq: 2, problem: "modified" });
    await backend.close();
  });
});

describe("canonical JSON", () => {
  const values: unknown[] = [
    null,
    0,
    -0,
    1e21,
    5e-7,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    'a"b\\c\u2028\u0000é🔐',
    true,
    [],
    {},
    [undefined, () => 1, null, { z: 1, a: [{ y: undefined, x: 2 }] }],
    { b: 1, a: 2, B: 3, "": 4, é: 5, "\u007f": 6, aa: { c: undefined, f: () => 1 } },
    { sorted: 1, them: 2 },
    new Date(0),
    fixture.entries,
    fixture.rows,
  ];
  it("matches the reference serialisation", () => {
    for (const v of values) expect(canonicalJson(v)).toBe(referenceCanonicalJson(v));
  });

  it("matches it for keys past the member-name cache", () => {
    const wide: Record<string, number> = {};
    for (let i = 3000; i > 0; i--) wide[`k${i}`] = i;
    expect(canonicalJson(wide)).toBe(referenceCanonicalJson(wide));
    expect(canonicalJson(wide)).toBe(referenceCanonicalJson(wide));
  });
});

describe("masking", () => {
  const paths = ["context.token.jti", "context.token", "context.session.id", "context.ip", "subject.properties.email"];
  it("masks what the deep-copy masking masked and leaves the input alone", () => {
    for (const e of fixture.entries) {
      const request = e.request as unknown as JsonObject;
      const before = JSON.stringify(request);
      for (const list of [paths, DEFAULT_MASK, fixture.options.mask, ["context"], ["missing.deep", "context.ip.x"]]) {
        const expected = referenceMask(request, list, "k");
        expect(maskRequest(request, list, "k")).toEqual(expected);
        expect(createMasker(list, "k")(request)).toEqual(expected);
      }
      expect(JSON.stringify(request)).toBe(before);
    }
  });

  it("masks a repeated value as maskValue does, also after its cache was dropped", () => {
    const masker = createMasker(["context.session.id"], "k");
    const masked = (id: string): unknown =>
      ((masker({ context: { session: { id } } }).context as JsonObject).session as JsonObject).id;
    for (let i = 0; i < 9000; i++) {
      const id = `s${i % 4500}`;
      expect(masked(id)).toBe(maskValue("k", id));
    }
    expect(masked("s1")).not.toBe(masked("s2"));
  });

  it("keys a string and its UTF-8 bytes alike", () => {
    const value: JsonValue = "sess-1";
    const viaString = createMasker(["context.session.id"], "ключ")({ context: { session: { id: value } } });
    const viaBytes = createMasker(["context.session.id"], Buffer.from("ключ"))({ context: { session: { id: value } } });
    expect(viaString).toEqual(viaBytes);
    expect(viaString).toEqual({ context: { session: { id: maskValue("ключ", value) } } });
  });
});

describe("decision rows", () => {
  const entries: DecisionEntry[] = [
    ...fixture.entries,
    makeEntry({ n: 11, path: "step_up", shadow: true, reasons: ["a_b", "c%d"] }),
    makeEntry({ n: 12, path: "throttle", reasons: [] }),
  ];
  // A decision with optional members left undefined: canonical JSON leaves them out.
  const base = makeEntry({ n: 13 });
  entries.push({ ...base, decision: { ...base.decision, extras: undefined as unknown as JsonObject } });

  it("equal the rows of the generic record path", () => {
    const mask = createMasker(fixture.options.mask, "k");
    let head = { seq: 41, hash: "ab".repeat(32) };
    for (const entry of entries) {
      const fast = decisionRow(entry, mask, "w-1", head);
      const placed = chainRecordWithBody(decisionRecord(entry, { mask }), "w-1", head);
      expect(fast).toEqual(rowOfRecord(placed.record, placed.body));
      expect(fast.body).toBe(referenceCanonicalJson({ ...placed.record, hash: undefined }));
      head = { seq: fast.seq, hash: fast.hash };
    }
    expect(head.seq).toBe(41 + entries.length);
  });
});
