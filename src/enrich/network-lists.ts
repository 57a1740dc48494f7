/** The operator's network lists (hosting ASNs, anonymisers, reputation), compiled together into one swappable value. */

import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Problem } from "../errors/signalbox-error.js";
import { CidrMatcher } from "./cidr.js";
import { parseAsnList, parseCidrList, readListText } from "./list-files.js";

/** Where the lists live; an absent member means that list is not used. */
export interface NetworkListSources {
  readonly hostingAsnsFile?: string;
  readonly anonymizersFile?: string;
  /** A directory of `*.cidr` files; each file is one reputation list named after the file. */
  readonly reputationDir?: string;
}

export interface ReputationList {
  readonly name: string;
  readonly file: string;
  readonly matcher: CidrMatcher;
}

/** One immutable generation of the lists; a reload builds a new one and swaps it in whole. */
export interface NetworkLists {
  readonly hostingAsns: ReadonlySet<number>;
  readonly anonymizers: CidrMatcher;
  readonly reputation: readonly ReputationList[];
}

export interface ListSummary {
  readonly name: string;
  readonly file: string;
  readonly entries: number;
}

/** What a load or reload did: the lists now in force, and every line or file it had to skip. */
export interface ListReport {
  readonly lists: readonly ListSummary[];
  /** Bad lines (with file and line) and unreadable files; none of them stopped the load. */
  readonly problems: readonly Problem[];
  /** Files or directories that could not be read at all; their previous version stays in force. */
  readonly unreadable: readonly string[];
}

export const EMPTY_NETWORK_LISTS: NetworkLists = {
  hostingAsns: new Set(),
  anonymizers: CidrMatcher.EMPTY,
  reputation: [],
};

const REPUTATION_FILE = /^[^.].*\.cidr$/;

/**
 * Loads every configured list. A bad line is skipped and reported; an unreadable file keeps the
 * list's previous generation (from `previous`), so a half-written or briefly missing file never
 * empties a list that was protecting traffic.
 */
export async function loadNetworkLists(
  sources: NetworkListSources,
  previous: NetworkLists = EMPTY_NETWORK_LISTS,
): Promise<{ lists: NetworkLists; report: ListReport }> {
  const summaries: ListSummary[] = [];
  const problems: Problem[] = [];
  const unreadable: string[] = [];

  let hostingAsns = previous.hostingAsns;
  if (sources.hostingAsnsFile) {
    const file = sources.hostingAsnsFile;
    const { text, problem } = await readListText(file);
    if (text === undefined) {
      if (problem) problems.push(problem);
      unreadable.push(file);
    } else {
      const parsed = parseAsnList(file, text);
      problems.push(...parsed.problems);
      hostingAsns = new Set(parsed.entries);
      summaries.push({ name: "hosting-asns", file, entries: parsed.entries.length });
    }
  }

  let anonymizers = previous.anonymizers;
  if (sources.anonymizersFile) {
    const file = sources.anonymizersFile;
    const { text, problem } = await readListText(file);
    if (text === undefined) {
      if (problem) problems.push(problem);
      unreadable.push(file);
    } else {
      const parsed = parseCidrList(file, text);
      problems.push(...parsed.problems);
      anonymizers = CidrMatcher.fromRanges(parsed.entries);
      summaries.push({ name: "anonymizers", file, entries: parsed.entries.length });
    }
  }

  let reputation = previous.reputation;
  if (sources.reputationDir) {
    const dir = sources.reputationDir;
    let names: string[] | undefined;
    try {
      names = (await readdir(dir)).filter((n) => REPUTATION_FILE.test(n)).sort();
    } catch (err) {
      const reason = err instanceof Error && "code" in err ? String(err.code) : "read error";
      problems.push({ message: `cannot read reputation directory "${dir}" (${reason})` });
      unreadable.push(dir);
    }
    if (names) {
      const next: ReputationList[] = [];
      for (const fileName of names) {
        const file = join(dir, fileName);
        const name = basename(fileName, ".cidr");
        const { text, problem } = await readListText(file);
        if (text === undefined) {
          if (problem) problems.push(problem);
          unreadable.push(file);
          const kept = previous.reputation.find((l) => l.name === name);
          if (kept) next.push(kept);
          continue;
        }
        const parsed = parseCidrList(file, text);
        problems.push(...parsed.problems);
        next.push({ name, file, matcher: CidrMatcher.fromRanges(parsed.entries) });
        summaries.push({ name, file, entries: parsed.entries.length });
      }
      reputation = next;
    }
  }

  return { lists: { hostingAsns, anonymizers, reputation }, report: { lists: summaries, problems, unreadable } };
}
