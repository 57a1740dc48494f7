/** Matches action names against configured patterns: an exact name, or a `prefix.*` family, or `*`. */

/** Whether `name` matches `pattern`: `admin.*` matches `admin.users.delete` but not `admin` itself. */
export function actionMatches(name: string, pattern: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) return name.startsWith(pattern.slice(0, -1));
  return name === pattern;
}

/** The first pattern `name` matches, or undefined. */
export function matchingPattern(name: string, patterns: readonly string[]): string | undefined {
  return patterns.find((p) => actionMatches(name, p));
}
