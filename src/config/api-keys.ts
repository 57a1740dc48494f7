/** Parses API key specs: `KEY` (decide only), `decide:KEY` or `admin:KEY` (decide and admin). */

import type { ApiKeyConfig } from "./serve-config.js";

const MIN_KEY_LENGTH = 8;

/** One key spec, or an error message naming what is wrong (without echoing the secret). */
export function parseApiKey(spec: string): ApiKeyConfig | string {
  const trimmed = spec.trim();
  let right: ApiKeyConfig["right"] = "decide";
  let key = trimmed;
  if (trimmed.startsWith("admin:")) {
    right = "admin";
    key = trimmed.slice("admin:".length);
  } else if (trimmed.startsWith("decide:")) {
    key = trimmed.slice("decide:".length);
  }
  if (key.length === 0) return "an API key is empty";
  if (/\s/.test(key)) return "an API key contains whitespace";
  if (key.length < MIN_KEY_LENGTH) return `an API key is shorter than ${MIN_KEY_LENGTH} characters`;
  return { right, key };
}

/** Splits a comma-separated list (the `SIGNALBOX_API_KEYS` form) into specs, dropping empty entries. */
export function splitKeyList(list: string): string[] {
  return list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
