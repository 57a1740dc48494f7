/** Matches request paths against configured route templates such as `/todos/{todoId}`. */

import type { GatewayRoute } from "./config.js";

export interface RouteMatch {
  readonly route: GatewayRoute;
  /** Placeholder values, percent-decoded, e.g. `{ todoId: "7" }`. */
  readonly params: Readonly<Record<string, string>>;
}

interface CompiledRoute {
  readonly route: GatewayRoute;
  /** `null` marks a placeholder segment; its name is in `names` at the same index. */
  readonly literals: readonly (string | null)[];
  readonly names: readonly (string | undefined)[];
}

/**
 * A route table compiled once. Templates are bucketed by segment count, so a lookup compares only
 * templates of the right length; among several matches the most specific wins (a literal segment
 * beats a placeholder at the first position where they differ), then the first configured.
 */
export class RouteTable {
  private readonly bySegments = new Map<number, CompiledRoute[]>();

  constructor(routes: readonly GatewayRoute[]) {
    for (const route of routes) {
      const parts = splitPath(route.path);
      const literals: (string | null)[] = [];
      const names: (string | undefined)[] = [];
      for (const part of parts) {
        const placeholder = /^\{(.+)\}$/.exec(part);
        literals.push(placeholder ? null : part);
        names.push(placeholder ? placeholder[1] : undefined);
      }
      const bucket = this.bySegments.get(parts.length) ?? [];
      bucket.push({ route, literals, names });
      this.bySegments.set(parts.length, bucket);
    }
  }

  /** The best route for a method and a path (query string allowed; it is ignored), if any. */
  match(method: string, path: string): RouteMatch | undefined {
    const parts = splitPath(pathOnly(path));
    const bucket = this.bySegments.get(parts.length);
    if (!bucket) return undefined;
    const upper = method.toUpperCase();
    let best: CompiledRoute | undefined;
    for (const candidate of bucket) {
      if (candidate.route.method !== undefined && candidate.route.method !== upper) continue;
      if (!matches(candidate, parts)) continue;
      if (!best || moreSpecific(candidate, best)) best = candidate;
    }
    if (!best) return undefined;
    const params: Record<string, string> = {};
    best.names.forEach((name, i) => {
      if (name !== undefined) params[name] = safeDecode(parts[i] ?? "");
    });
    return { route: best.route, params };
  }
}

/** The path without its query string or fragment. */
export function pathOnly(target: string): string {
  const q = target.search(/[?#]/);
  return q === -1 ? target : target.slice(0, q);
}

function splitPath(path: string): string[] {
  // A trailing slash names the same resource as the path without it.
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  return trimmed === "/" || trimmed === "" ? [] : trimmed.slice(1).split("/");
}

function matches(candidate: CompiledRoute, parts: readonly string[]): boolean {
  for (let i = 0; i < parts.length; i++) {
    const literal = candidate.literals[i];
    const part = parts[i] ?? "";
    if (literal === null) {
      if (part === "") return false;
    } else if (literal !== part && literal !== safeDecode(part)) return false;
  }
  return true;
}

function moreSpecific(a: CompiledRoute, b: CompiledRoute): boolean {
  for (let i = 0; i < a.literals.length; i++) {
    const aLit = a.literals[i] !== null;
    const bLit = b.literals[i] !== null;
    if (aLit !== bLit) return aLit;
  }
  // Same shape: a method-specific route beats an any-method one.
  return a.route.method !== undefined && b.route.method === undefined;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
