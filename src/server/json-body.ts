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

export function registerJsonBody(app: FastifyInstance, depthLimit: number): void {
  const parse = app.getDefaultJsonParser("error", "error");
  // only JSON bodies reach the API; a face that needs another type registers it in its own scope
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim().length === 0) {
      done(new SignalboxError("INVALID_JSON", "the request body is empty; send a JSON object"), undefined);
      return;
    }
    if (jsonDepthExceeds(text, depthLimit)) {
      done(new SignalboxError("BODY_TOO_DEEP", `the JSON body nests deeper than ${depthLimit} levels`), undefined);
      return;
    }
    parse(request, text, done);
  });
}
