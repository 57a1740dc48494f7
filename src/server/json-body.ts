/** The JSON body parser: rejects empty and too-deep bodies before parsing, so nesting cannot blow the stack. */

import type { FastifyInstance } from "fastify";
import { SignalboxError } from "../errors/signalbox-error.js";

/**
 * The deepest nesting of objects and arrays in a JSON text, found by one linear scan that skips
 * strings; stops as soon as `limit` is exceeded. Malformed text is left for the parser to reject.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
    }
  }
  return false;
}

/** How many `{` and `[` the text holds anywhere (strings included): an upper bound of its depth, counted natively. */
function openingBrackets(text: string, stopAbove: number): number {
  let n = 0;
  for (let i = text.indexOf("{"); i !== -1 && n <= stopAbove; i = text.indexOf("{", i + 1)) n++;
  for (let i = text.indexOf("["); i !== -1 && n <= stopAbove; i = text.indexOf("[", i + 1)) n++;
  return n;
}

/** Whether the text may nest deeper than `limit`: the exact scan runs only when the bracket count allows it. */
export function mayExceedDepth(text: string, limit: number): boolean {
  return openingBrackets(text, limit) > limit && jsonDepthExceeds(text, limit);
}

export function registerJsonBody(app: FastifyInstance, depthLimit: number): void {
  const parse = app.getDefaultJsonParser("error", "error");
  // only JSON bodies reach the API; a face that needs another type registers it in its own scope
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    // a body that opens an object is not blank; only the others pay for the trim
    if (text.charCodeAt(0) !== 123 /* { */ && text.trim().length === 0) {
      done(new SignalboxError("INVALID_JSON", "the request body is empty; send a JSON object"), undefined);
      return;
    }
    if (mayExceedDepth(text, depthLimit)) {
      done(new SignalboxError("BODY_TOO_DEEP", `the JSON body nests deeper than ${depthLimit} levels`), undefined);
      return;
    }
    parse(request, text, done);
  });
}
