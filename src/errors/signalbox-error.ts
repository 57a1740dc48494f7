/** The one error base class: a stable `code`, a message that says what and where, and details. */

import { ERROR_CODES, type ErrorCode } from "./codes.js";

/** A position in a source file (1-based line and column). */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** One problem found while checking an input, e.g. one policy error among many. */
export interface Problem {
  readonly message: string;
  /** JSON pointer or dotted path of the offending field, when the input is structured. */
  readonly path?: string;
  readonly position?: SourcePosition;
}

export class SignalboxError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly problems: readonly Problem[];

  constructor(code: C, message: string, options: { problems?: readonly Problem[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SignalboxError";
    this.code = code;
    this.problems = options.problems ?? [];
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export function isSignalboxError(err: unknown): err is SignalboxError {
  return err instanceof SignalboxError;
}

/** Formats a problem as `file:line:column: message` (or `path: message`). */
export function formatProblem(p: Problem): string {
  if (p.position) return `${p.position.file}:${p.position.line}:${p.position.column}: ${p.message}`;
  if (p.path) return `${p.path}: ${p.message}`;
  return p.message;
}
