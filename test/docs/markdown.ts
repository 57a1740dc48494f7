/** Just enough Markdown reading for the docs tests: prose without code, links, heading anchors and table rows. */

/** The text outside fenced code blocks and inline code spans, where links are links. */
export function proseOf(markdown: string): string {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split("\n")) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker !== undefined) {
      fence = marker;
      lines.push("");
      continue;
    }
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      lines.push("");
      continue;
    }
    // Inline code spans may hold brackets and parentheses that only look like links.
    lines.push(line.replace(/(`+)[^`]*?\1/g, ""));
  }
  return lines.join("\n");
}

export interface MarkdownLink {
  /** The target as written, title removed. */
  readonly target: string;
  /** 1-based line of the link in its file. */
  readonly line: number;
}

/** Inline links and images `[text](target "title")` and reference definitions `[id]: target`. */
export function linksOf(markdown: string): MarkdownLink[] {
  const out: MarkdownLink[] = [];
  const lines = proseOf(markdown).split("\n");
  lines.forEach((text, i) => {
    for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)) {
      out.push({ target: unbracket(m[1] ?? ""), line: i + 1 });
    }
    const def = /^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(text);
    if (def) out.push({ target: unbracket(def[1] ?? ""), line: i + 1 });
  });
  return out;
}

function unbracket(target: string): string {
  return target.startsWith("<") && target.endsWith(">") ? target.slice(1, -1) : target;
}

/** Whether a link target names a scheme (`https:`, `mailto:`) rather than a file in the repository. */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//");
}

/** The anchors GitHub gives a file's headings: lowercased text, punctuation dropped, spaces to hyphens, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseOfHeadings(markdown)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Heading lines outside fences, with inline code kept (its text is part of the anchor). */
function proseOfHeadings(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(`{3,}|~{3,})/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (!fenced && /^\s{0,3}#/.test(line)) out.push(line);
  }
  return out;
}

export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/[`*]/g, "");
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The cells of each row of the first table whose header is exactly `header`, unescaped. */
export function tableRows(markdown: string, header: readonly string[]): string[][] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => sameCells(cellsOf(l), header));
  if (start < 0) return [];
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.trim().startsWith("|")) break;
    rows.push(cellsOf(line));
  }
  return rows;
}

function sameCells(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

/** Splits a table row on unescaped pipes and decodes the escapes a cell needs to render literally. */
export function cellsOf(line: string): string[] {
  const trimmed = line.trim();
  if (!trimmed.startsWith("|")) return [];
  const inner = trimmed.slice(1, trimmed.endsWith("|") && !trimmed.endsWith("\\|") ? -1 : undefined);
  return inner
    .split(/(?<!\\)\|/)
    .map((cell) =>
      cell.trim().replace(/\\\|/g, "|").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"),
    );
}
