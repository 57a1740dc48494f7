/** Lets an authorization endpoint take any body: a gateway check decides on headers, not content. */

import type { FastifyInstance } from "fastify";

/**
 * Replaces the content-type parsers of this (encapsulated) plugin with one that drains and drops
 * the body, so a proxy that forwards the client's body (Envoy `with_request_body`) or its content
 * type never turns a check into a 400 or 415.
 */
export function acceptAnyBody(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser("*", (_request, payload, done) => {
    payload.on("error", done);
    payload.on("end", () => done(null, undefined));
    payload.resume();
  });
}
