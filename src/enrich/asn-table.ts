/** The IP → autonomous system table, loaded once from range CSV files into typed arrays. */

import { readFile } from "node:fs/promises";
import { SignalboxError } from "../errors/signalbox-error.js";
import { type IpAddress, parseIpv4, parseIpv6Words } from "./ip-address.js";
import { Ipv4Ranges, Ipv6Ranges } from "./ip-ranges.js";

export interface AsnRecord {
  readonly asn: number;
  /** The organisation holding the AS, as the data source spells it. */
  readonly org?: string;
}

export interface AsnTableStats {
  readonly ipv4Ranges: number;
  readonly ipv6Ranges: number;
  readonly organisations: number;
  /** Rows whose range overlapped the previous row; the later, usually more specific, row wins. */
  readonly overlapsClipped: number;
  readonly loadMs: number;
}

interface Column<T> {
  ranges: T;
  asns: Uint32Array;
  orgs: Uint32Array;
  overlaps: number;
}

/** Splits `start,end,asn,org` where only `org` may be quoted (CSV `""` escapes a quote). */
function splitRow(line: string): [string, string, string, string] | undefined {
  const a = line.indexOf(",");
  const b = line.indexOf(",", a + 1);
  const c = line.indexOf(",", b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  let org = line.slice(c + 1);
  if (org.startsWith('"') && org.endsWith('"') && org.length >= 2) org = org.slice(1, -1).replaceAll('""', '"');
  return [line.slice(0, a), line.slice(a + 1, b), line.slice(b + 1, c), org];
}

/** Calls `each` for every non-empty, non-comment line without building an array of 400k strings. */
function forEachLine(text: string, each: (line: string, lineNumber: number) => void): void {
  let from = 0;
  let lineNumber = 0;
  while (from < text.length) {
    let to = text.indexOf("\n", from);
    if (to < 0) to = text.length;
    lineNumber++;
    const line = text.slice(from, text.charCodeAt(to - 1) === 13 ? to - 1 : to);
    if (line.length > 0 && !line.startsWith("#")) each(line, lineNumber);
    from = to + 1;
  }
}

function countLines(text: string): number {
  let count = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) count++;
  return count;
}

/** A flat copy, so a kept substring does not pin the whole file text in memory. */
function detached(text: string): string {
  return Buffer.from(text, "utf8").toString("utf8");
}

function badRow(file: string, line: number, why: string): SignalboxError {
  return new SignalboxError("CONFIG_INVALID", `${why} in ASN table "${file}" at line ${line}`, {
    problems: [{ message: why, position: { file, line, column: 1 } }],
  });
}

/**
 * Reads one family's CSV. Rows must be sorted by start address (the published files are); an
 * overlapping row clips the previous one instead of failing, because the upstream merge of several
 * registries leaves a handful of such rows.
 */
function loadColumn<T extends Ipv4Ranges | Ipv6Ranges>(
  file: string,
  text: string,
  wordsPerBound: 1 | 4,
  orgIndex: Map<string, number>,
  orgNames: string[],
  compile: (starts: Uint32Array, ends: Uint32Array) => T,
): Column<T> {
  const capacity = countLines(text);
  const starts = new Uint32Array(capacity * wordsPerBound);
  const ends = new Uint32Array(capacity * wordsPerBound);
  const asns = new Uint32Array(capacity);
  const orgs = new Uint32Array(capacity);
  let overlaps = 0;
  let n = 0;
  forEachLine(text, (line, lineNumber) => {
    const fields = splitRow(line);
    if (!fields) throw badRow(file, lineNumber, "expected start,end,asn,organisation");
    const [startText, endText, asnText, org] = fields;
    const asn = Number(asnText);
    if (!Number.isInteger(asn) || asn < 0 || asn > 0xffffffff)
      throw badRow(file, lineNumber, `bad AS number "${asnText}"`);
    if (wordsPerBound === 1) {
      const start = parseIpv4(startText);
      const end = parseIpv4(endText);
      if (start === undefined || end === undefined || end < start) throw badRow(file, lineNumber, "bad IPv4 range");
      const prevStart = n > 0 ? (starts[n - 1] ?? 0) : -1;
      if (start <= prevStart) throw badRow(file, lineNumber, "rows not sorted by start address");
      if (n > 0 && start <= (ends[n - 1] ?? 0)) {
        ends[n - 1] = start - 1;
        overlaps++;
      }
      starts[n] = start;
      ends[n] = end;
    } else {
      const start = parseIpv6Words(startText);
      const end = parseIpv6Words(endText);
      if (!start || !end) throw badRow(file, lineNumber, "bad IPv6 range");
      if (n > 0 && !after(start, starts, n - 1)) throw badRow(file, lineNumber, "rows not sorted by start address");
      if (n > 0 && !after(start, ends, n - 1)) {
        ends.set(minusOne(start), 4 * (n - 1));
        overlaps++;
      }
      starts.set(start, 4 * n);
      ends.set(end, 4 * n);
    }
    asns[n] = asn;
    let org32 = orgIndex.get(org);
    if (org32 === undefined) {
      org32 = orgNames.length;
      orgNames.push(detached(org));
      orgIndex.set(org, org32);
    }
    orgs[n] = org32;
    n++;
  });
  return {
    ranges: compile(starts.slice(0, n * wordsPerBound), ends.slice(0, n * wordsPerBound)),
    asns: asns.slice(0, n),
    orgs: orgs.slice(0, n),
    overlaps,
  };
}

/** Whether `words` is strictly greater than the four-word bound at position `i` of `table`. */
function after(words: Uint32Array, table: Uint32Array, i: number): boolean {
  for (let w = 0; w < 4; w++) {
    const a = words[w] ?? 0;
    const b = table[4 * i + w] ?? 0;
    if (a !== b) return a > b;
  }
  return false;
}

function minusOne(words: Uint32Array): Uint32Array {
  const out = Uint32Array.from(words);
  for (let w = 3; w >= 0; w--) {
    const v = out[w] ?? 0;
    out[w] = (v - 1) >>> 0;
    if (v !== 0) break;
  }
  return out;
}

export class AsnTable {
  private constructor(
    private readonly v4: Column<Ipv4Ranges>,
    private readonly v6: Column<Ipv6Ranges>,
    private readonly orgNames: readonly string[],
    readonly stats: AsnTableStats,
  ) {}

  /**
   * Loads the IPv4 and IPv6 CSV files (`start,end,asn,organisation`, addresses as text, inclusive).
   * Organisation names are interned: ~515k rows share ~81k names.
   */
  static async load(files: { ipv4: string; ipv6: string }): Promise<AsnTable> {
    const began = performance.now();
    const [text4, text6] = await Promise.all([readText(files.ipv4), readText(files.ipv6)]);
    const orgIndex = new Map<string, number>();
    const orgNames: string[] = [];
    const v4 = loadColumn(files.ipv4, text4, 1, orgIndex, orgNames, (s, e) => new Ipv4Ranges(s, e));
    const v6 = loadColumn(files.ipv6, text6, 4, orgIndex, orgNames, (s, e) => new Ipv6Ranges(s, e));
    return new AsnTable(v4, v6, orgNames, {
      ipv4Ranges: v4.ranges.size,
      ipv6Ranges: v6.ranges.size,
      organisations: orgNames.length,
      overlapsClipped: v4.overlaps + v6.overlaps,
      loadMs: Math.round(performance.now() - began),
    });
  }

  lookup(ip: IpAddress): AsnRecord | undefined {
    const column = ip.version === 4 ? this.v4 : this.v6;
    const i = ip.version === 4 ? this.v4.ranges.indexOf(ip.value) : this.v6.ranges.indexOf(ip.words);
    if (i < 0) return undefined;
    const asn = column.asns[i] ?? 0;
    const org = this.orgNames[column.orgs[i] ?? 0];
    return org ? { asn, org } : { asn };
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (cause) {
    throw new SignalboxError("CONFIG_INVALID", `cannot read ASN table "${file}"`, { cause });
  }
}
