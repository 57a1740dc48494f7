/** A configured secret (such as the audit mask key) that never shows up in logs, JSON or inspection. */

const REDACTED = "[redacted]";

/**
 * Wraps a secret so that printing the configuration cannot leak it: `JSON.stringify`, string
 * conversion and `util.inspect` all show `[redacted]`; only `reveal()` hands out the value.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Secret(${REDACTED})`;
  }
}
