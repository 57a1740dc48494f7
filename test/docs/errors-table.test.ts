/** Keeps the error table in `docs/errors.md` and the codes in `src/errors/codes.ts` in step, row by row. */

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/errors/codes.js";
import { cellsOf, tableRows } from "./markdown.js";

const REPO_ROOT = resolve(import.meta.dirname, "..", "..");
const HEADER = ["Code", "HTTP", "Meaning", "How to fix"] as const;

interface DocumentedCode {
  readonly status: number;
  readonly meaning: string;
  readonly fix: string;
}

/** The table's rows by code; a code cell must be the code in backticks. */
function documentedCodes(markdown: string): { codes: Map<string, DocumentedCode>; problems: string[] } {
  const codes = new Map<string, DocumentedCode>();
  const problems: string[] = [];
  for (const cells of tableRows(markdown, HEADER)) {
    const [codeCell = "", http = "", meaning = "", fix = ""] = cells;
    const code = /^`([A-Z][A-Z0-9_]*)`$/.exec(codeCell)?.[1];
    if (cells.length !== HEADER.length)
      problems.push(`row "${codeCell}" has ${cells.length} cells, not ${HEADER.length}`);
    if (code === undefined) {
      problems.push(`row "${codeCell}" does not name a code as \`CODE\``);
      continue;
    }
    if (codes.has(code)) problems.push(`code "${code}" is listed twice`);
    codes.set(code, { status: Number(http), meaning, fix });
  }
  return { codes, problems };
}

describe("the table reader", () => {
  it("reads code, status, meaning and fix, decoding escaped pipes and angle brackets", () => {
    const md = [
      "intro",
      "",
      "| Code | HTTP | Meaning | How to fix |",
      "|---|---|---|---|",
      "| `A_CODE` | 418 | a \\| b | send &lt;key&gt; |",
      "| `B_CODE` | 500 | c | d |",
      "",
      "| Code | HTTP | Meaning | How to fix |",
    ].join("\n");
    const { codes, problems } = documentedCodes(md);
    expect(problems).toEqual([]);
    expect([...codes.keys()]).toEqual(["A_CODE", "B_CODE"]);
    expect(codes.get("A_CODE")).toEqual({ status: 418, meaning: "a | b", fix: "send <key>" });
  });

  it("reports rows that do not name a code, and codes listed twice", () => {
    const md =
      "| Code | HTTP | Meaning | How to fix |\n|---|---|---|---|\n| A_CODE | 400 | m | f |\n| `B` | 1 | m | f |\n| `B` | 1 | m | f |";
    expect(documentedCodes(md).problems).toEqual([
      'row "A_CODE" does not name a code as `CODE`',
      'code "B" is listed twice',
    ]);
  });

  it("splits a row into cells", () => {
    expect(cellsOf("| `X` | 400 | one | two |")).toEqual(["`X`", "400", "one", "two"]);
  });
});

describe("docs/errors.md", () => {
  const markdown = readFileSync(resolve(REPO_ROOT, "docs/errors.md"), "utf8");
  const { codes: documented, problems } = documentedCodes(markdown);
  const defined = new Map(Object.entries(ERROR_CODES));

  it("has a well-formed table", () => {
    expect(problems).toEqual([]);
    expect(documented.size).toBeGreaterThan(0);
  });

  it("lists exactly the codes src/errors/codes.ts defines", () => {
    const missing = [...defined.keys()].filter((c) => !documented.has(c));
    const unknown = [...documented.keys()].filter((c) => !defined.has(c));
    expect({ missing, unknown }).toEqual({ missing: [], unknown: [] });
  });

  it("lists them in the order codes.ts defines them", () => {
    expect([...documented.keys()]).toEqual([...defined.keys()].filter((c) => documented.has(c)));
  });

  it("writes placeholders like <key> escaped, since a renderer drops them as unknown HTML tags", () => {
    const raw = markdown
      .split("\n")
      .filter((l) => l.startsWith("| `"))
      .map((l) => l.replace(/`[^`]*`/g, ""))
      .filter((l) => /<[A-Za-z][^>]*>/.test(l));
    expect(raw).toEqual([]);
  });

  it("gives every code the HTTP status, meaning and fix the code gives it", () => {
    const differences: string[] = [];
    for (const [code, info] of defined) {
      const row = documented.get(code);
      if (!row) continue; // reported by the test above
      if (row.status !== info.status)
        differences.push(`${code}: HTTP ${row.status} in the table, ${info.status} in the code`);
      if (row.meaning !== info.meaning) differences.push(`${code}: meaning "${row.meaning}" ≠ "${info.meaning}"`);
      if (row.fix !== info.fix) differences.push(`${code}: fix "${row.fix}" ≠ "${info.fix}"`);
    }
    expect(differences).toEqual([]);
  });
});
