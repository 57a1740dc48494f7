/** Per-route settings the server's hooks read: which API-key right a route needs and which face it belongs to. */

/** `public` needs no key; `decide` and `admin` need a key with that right when keys are configured. */
export type RouteRight = "public" | "decide" | "admin";

declare module "fastify" {
  interface FastifyContextConfig {
    right?: RouteRight;
    /** AuthZEN answers a wrong content type with 400 (certification c-2-4-3); the other faces with 415. */
    face?: "authzen" | "native" | "ops";
  }
}
