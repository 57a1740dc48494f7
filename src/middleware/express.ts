/** Signalbox as Express-style (Connect) middleware: `app.use(signalboxExpress({ engine, config }))`. */

import type { IncomingMessage, ServerResponse } from "node:http";
import { isSignalboxError } from "../errors/index.js";
import type { HeaderBag } from "../server/gateway/gateway-request.js";
import { failureResponse, type GatewayResponse } from "../server/gateway/gateway-response.js";
import { createEnforcement, type SignalboxMiddlewareOptions, type SignalboxVerdict } from "./enforcement.js";

/** The request as Express hands it over; `originalUrl` survives router mounting. */
export type SignalboxExpressRequest = IncomingMessage & { originalUrl?: string; signalbox?: SignalboxVerdict };

export type SignalboxExpressMiddleware = (
  req: SignalboxExpressRequest,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

export interface SignalboxExpressOptions extends SignalboxMiddlewareOptions {
  /** Told why a check could not be decided (the request was refused with a 5xx). */
  readonly onError?: (err: unknown) => void;
}

/**
 * Denied requests are answered here and never reach `next`; an allowed one continues with
 * `req.signalbox` set. When no decision can be made the request is refused with a 5xx: the
 * middleware fails closed.
 */
export function signalboxExpress(options: SignalboxExpressOptions): SignalboxExpressMiddleware {
  const gate = createEnforcement(options);
  return (req, res, next) => {
    const method = req.method ?? "GET";
    const path = req.originalUrl ?? req.url ?? "/";
    if (options.skip?.(method, path)) {
      next();
      return;
    }
    gate
      .check({ method, path, headers: req.headers as HeaderBag, peer: req.socket.remoteAddress }, "middleware")
      .then((result) => {
        const { response } = result;
        if (!response.allowed || !result.request || !result.decision) {
          send(res, response);
          return;
        }
        for (const h of result.removeHeaders) delete req.headers[h];
        Object.assign(req.headers, response.headers);
        req.signalbox = { decision: result.decision, request: result.request, headers: response.headers };
        res.setHeader("x-signalbox-decision-id", result.decision.id);
        next();
      })
      .catch((err: unknown) => {
        options.onError?.(err);
        const code = isSignalboxError(err) && err.status >= 500 ? err.code : "INTERNAL";
        send(res, failureResponse(code, "the decision service cannot decide right now"));
      });
  };
}

function send(res: ServerResponse, response: GatewayResponse): void {
  res.statusCode = response.status;
  for (const [k, v] of Object.entries(response.headers)) res.setHeader(k, v);
  res.end(response.body ?? "");
}
