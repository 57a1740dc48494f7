/** Validation of CLI option values, with errors that name the option. */

import { SignalboxError } from "../errors/signalbox-error.js";

/** A parser for commander that accepts whole numbers in [min, max]. */
export function intOption(name: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new SignalboxError(
        "CONFIG_INVALID",
        `${name} must be a whole number from ${min} to ${max}, got "${value}"`,
      );
    }
    return n;
  };
}

export function dateOption(name: string): (value: string) => number {
  return (value: string) => {
    const t = Date.parse(value);
    if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t)) {
      throw new SignalboxError("CONFIG_INVALID", `${name} must be a date like 2026-09-07, got "${value}"`);
    }
    return t;
  };
}
