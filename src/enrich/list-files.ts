/** Reads the curated list file formats (ASN lists and CIDR lists), skipping bad lines with their position. */

import { readFile } from "node:fs/promises";
import type { Problem } from "../errors/signalbox-error.js";
import { type CidrRange, parseCidr } from "./cidr.js";

/** What a list file yielded: its entries, and one problem per line that could not be read. */
export interface ListFileResult<T> {
  readonly entries: T[];
  readonly problems: Problem[];
}

const ASN_ENTRY = /^(?:AS)?([0-9]{1,10})$/i;

/** Splits a file into `(content, line number)` pairs with `#` comments and blank lines removed. */
function contentLines(text: string): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const hash = raw.indexOf("#");
    const content = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (content.length > 0) out.push([content, i + 1]);
  });
  return out;
}

function problemAt(file: string, line: number, message: string): Problem {
  return { message, position: { file, line, column: 1 } };
}

/** Parses an ASN list: one AS number per line (`16509` or `AS16509`), `#` starts a comment. */
export function parseAsnList(file: string, text: string): ListFileResult<number> {
  const entries: number[] = [];
  const problems: Problem[] = [];
  for (const [content, line] of contentLines(text)) {
    const match = ASN_ENTRY.exec(content);
    const asn = match ? Number(match[1]) : Number.NaN;
    if (Number.isInteger(asn) && asn <= 0xffffffff) entries.push(asn);
    else problems.push(problemAt(file, line, `not an AS number: "${content}"`));
  }
  return { entries, problems };
}

/** Parses a CIDR list: one block (or bare address) per line, `#` starts a comment. */
export function parseCidrList(file: string, text: string): ListFileResult<CidrRange> {
  const entries: CidrRange[] = [];
  const problems: Problem[] = [];
  for (const [content, line] of contentLines(text)) {
    const range = parseCidr(content);
    if (range) entries.push(range);
    else problems.push(problemAt(file, line, `not a CIDR block: "${content}"`));
  }
  return { entries, problems };
}

/** Reads a file, turning a read failure into a problem so a reload can go on with the other lists. */
export async function readListText(file: string): Promise<{ text?: string; problem?: Problem }> {
  try {
    return { text: await readFile(file, "utf8") };
  } catch (err) {
    const reason = err instanceof Error && "code" in err ? String(err.code) : "read error";
    return { problem: { message: `cannot read list file "${file}" (${reason})` } };
  }
}
