/** Loads a policy file from disk, and names the default policy shipped with Signalbox. */

import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SignalboxError } from "../errors/signalbox-error.js";
import { type CompileOptions, compilePolicy } from "./compile.js";
import type { CompiledPolicy } from "./compiled.js";

/** `src/policy` and `dist/policy` both sit two levels below the package root. */
const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The policy used when none is given. */
export const DEFAULT_POLICY_FILE = resolve(PACKAGE_ROOT, "policies", "default.yaml");

/** Reads referenced files from disk. */
export function readFromDisk(path: string): string {
  return readFileSync(path, "utf8");
}

/** Reads and compiles a policy file; throws `POLICY_NOT_FOUND` or `POLICY_INVALID`. */
export async function loadPolicy(
  file: string = DEFAULT_POLICY_FILE,
  options: Partial<CompileOptions> = {},
): Promise<CompiledPolicy> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new SignalboxError(
      "POLICY_NOT_FOUND",
      `cannot read policy "${file}": ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  return compilePolicy(text, resolve(file), { readFile: readFromDisk, ...options });
}
