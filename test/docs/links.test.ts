/** Every relative link in `README.md` and `docs/**` names a file that exists, and a heading that exists when it has an anchor. */

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { headingAnchors, isExternal, linksOf, slug } from "./markdown.js";

const REPO_ROOT = resolve(import.meta.dirname, "..", "..");

function markdownFiles(): string[] {
  const docs = readdirSync(join(REPO_ROOT, "docs"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".md"))
    .map((f) => join("docs", f));
  const readme = join(REPO_ROOT, "README.md");
  if (existsSync(readme)) return ["README.md", ...docs.sort()];
  // The lead writes the README; until it exists only docs/ can be checked, which CI must not accept.
  console.warn("links test: README.md does not exist yet, so its links are not checked");
  if (process.env.CI === "true") throw new Error("README.md is missing");
  return docs.sort();
}

const anchorCache = new Map<string, Set<string>>();
function anchorsOf(file: string): Set<string> {
  let anchors = anchorCache.get(file);
  if (!anchors) {
    anchors = headingAnchors(readFileSync(file, "utf8"));
    anchorCache.set(file, anchors);
  }
  return anchors;
}

/** What is wrong with one link of `file`, or undefined when it resolves. */
function brokenLink(file: string, target: string): string | undefined {
  if (isExternal(target)) return undefined;
  const hashAt = target.indexOf("#");
  const pathPart = hashAt < 0 ? target : target.slice(0, hashAt);
  const anchor = hashAt < 0 ? undefined : decodeURIComponent(target.slice(hashAt + 1));
  const absolute = pathPart === "" ? file : resolve(dirname(file), decodeURIComponent(pathPart.split("?")[0] ?? ""));
  const inRepo = relative(REPO_ROOT, absolute);
  if (inRepo.startsWith(`..${sep}`) || inRepo === "..") return "points outside the repository";
  if (!existsSync(absolute)) return "names no file";
  if (anchor !== undefined && absolute.endsWith(".md") && statSync(absolute).isFile()) {
    if (!anchorsOf(absolute).has(anchor)) return `names no heading "#${anchor}"`;
  }
  return undefined;
}

describe("the link reader", () => {
  const sample = [
    "See [the API](api.md#native-api) and ![a diagram](img/a.png 'title').",
    "`[not a link](nowhere.md)` and [site](https://example.org).",
    "```",
    "[inside a fence](fenced.md)",
    "```",
    "[ref]: <errors.md>",
  ].join("\n");

  it("finds inline links, images and reference definitions outside code", () => {
    expect(linksOf(sample)).toEqual([
      { target: "api.md#native-api", line: 1 },
      { target: "img/a.png", line: 1 },
      { target: "https://example.org", line: 2 },
      { target: "errors.md", line: 6 },
    ]);
  });

  it("gives headings GitHub's anchors", () => {
    expect(slug("`POST /access/v1/evaluation`")).toBe("post-accessv1evaluation");
    expect(slug("Stores, group commit and durability")).toBe("stores-group-commit-and-durability");
    expect([...headingAnchors("# Errors\n## The contract\n## `token_replay`\n## The contract")]).toEqual([
      "errors",
      "the-contract",
      "token_replay",
      "the-contract-1",
    ]);
  });

  it("reports a missing file, a missing heading and a path outside the repository", () => {
    const errorsDoc = join(REPO_ROOT, "docs", "errors.md");
    expect(brokenLink(errorsDoc, "no-such-file.md")).toBe("names no file");
    expect(brokenLink(errorsDoc, "#no-such-heading")).toBe('names no heading "#no-such-heading"');
    expect(brokenLink(errorsDoc, "#errors")).toBeUndefined();
    expect(brokenLink(errorsDoc, "../../outside.md")).toBe("points outside the repository");
    expect(brokenLink(errorsDoc, "../src/errors/codes.ts")).toBeUndefined();
  });
});

describe("links in the documentation", () => {
  const files = markdownFiles();

  it("has documentation to check", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)("%s: every relative link resolves", (name) => {
    const file = join(REPO_ROOT, name);
    const broken: string[] = [];
    for (const link of linksOf(readFileSync(file, "utf8"))) {
      const why = brokenLink(file, link.target);
      if (why) broken.push(`${name}:${link.line}: "${link.target}" ${why}`);
    }
    expect(broken).toEqual([]);
  });
});
