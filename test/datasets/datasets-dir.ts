/**
 * Where the recorded datasets live: SIGNALBOX_DATASETS_DIR, else `shared/datasets` beside the
 * repository (CI clones the repository with `shared/` next to it). Missing data fails under CI and
 * is skipped, loudly, elsewhere.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

export const DATASETS_DIR = process.env.SIGNALBOX_DATASETS_DIR ?? join(REPO, "..", "shared", "datasets");

/** The folder of one dataset, or undefined (after a warning) when its files are not there. */
export function datasetDir(name: string, requiredFiles: readonly string[]): string | undefined {
  const dir = join(DATASETS_DIR, name);
  const missing = requiredFiles.filter((f) => !existsSync(join(dir, f)));
  if (missing.length === 0) return dir;
  const what = `dataset "${name}": ${missing.map((f) => `"${f}"`).join(", ")} missing in "${dir}"`;
  if (process.env.CI === "true") throw new Error(`${what} and CI=true: refusing to skip`);
  console.warn(`SKIPPING the replay of ${what} (set SIGNALBOX_DATASETS_DIR)`);
  return undefined;
}
