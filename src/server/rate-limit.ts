/**
 * The API's own rate limit: at most `max` requests per client address in a fixed window, counted in
 * the process by one synchronous hook. Exempt requests (loopback callers, the gateway faces) are
 * recognised before any counting, so they cost one test.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { formatIpv4, parseIp } from "../enrich/ip-address.js";
import { SignalboxError } from "../errors/signalbox-error.js";

/** One client's window: requests counted since `startedAt`. */
interface ClientWindow {
  count: number;
  startedAt: number;
}

/** What one counted request learns: its number in the window and the milliseconds until the window resets. */
export interface RateLimitHit {
  readonly count: number;
  readonly resetInMs: number;
}

/** Clients remembered at most; beyond it, expired windows are swept, then the oldest windows go. */
export const DEFAULT_MAX_CLIENTS = 100_000;

/**
 * The key a client is counted under. An IPv4 address is its own key, and an IPv4-mapped IPv6 address
 * counts as the IPv4 address it carries. An IPv6 client is counted by its /64 prefix, because one
 * host usually holds a whole /64 and could otherwise rotate through its addresses.
 */
export function clientKey(ip: string): string {
  const parsed = parseIp(ip);
  if (parsed === undefined) return ip.toLowerCase();
  if (parsed.version === 4) return ip.indexOf(":") === -1 ? ip : formatIpv4(parsed.value);
  const w = parsed.words;
  return `${(w[0] ?? 0).toString(16)}:${(w[1] ?? 0).toString(16)}::/64`;
}

/**
 * Fixed windows per key: a window opens with a client's first request and lasts `windowMs`; the
 * request that makes the count exceed `max` is refused, and so is every later one until the window
 * ends. Memory is bounded by `maxClients`.
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, ClientWindow>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly maxClients: number = DEFAULT_MAX_CLIENTS,
  ) {}

  get clients(): number {
    return this.windows.size;
  }

  /** Counts one request of `key` at `now` (epoch ms). */
  hit(key: string, now: number): RateLimitHit {
    let w = this.windows.get(key);
    if (w === undefined) {
      w = { count: 0, startedAt: now };
      this.windows.set(key, w);
      if (this.windows.size > this.maxClients) this.shrink(now);
    } else if (now - w.startedAt >= this.windowMs) {
      // A new window: re-inserted so that the map's order stays the order windows started in.
      this.windows.delete(key);
      this.windows.set(key, w);
      w.count = 0;
      w.startedAt = now;
    }
    w.count++;
    return { count: w.count, resetInMs: w.startedAt + this.windowMs - now };
  }

  /**
   * Drops expired windows and, if that is not enough, the windows that started first, down to 90%
   * of the bound: a flood of new clients then pays for one pass over the map per tenth of the bound,
   * not one per request.
   */
  private shrink(now: number): void {
    const target = Math.floor(this.maxClients * 0.9);
    for (const [key, w] of this.windows) if (now - w.startedAt >= this.windowMs) this.windows.delete(key);
    for (const key of this.windows.keys()) {
      if (this.windows.size <= target) break;
      this.windows.delete(key);
    }
  }
}

export interface RateLimitOptions {
  readonly max: number;
  readonly windowMs: number;
  /** Requests that are never counted (loopback callers, the gateway faces unless asked). */
  readonly exempt: (request: FastifyRequest) => boolean;
  readonly maxClients?: number;
  /** The clock, epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

const RATE_LIMITED_MESSAGE = "too many requests from this client; retry after the Retry-After delay";

/**
 * Registers the limit as an `onRequest` hook. Counted requests carry `x-ratelimit-limit`,
 * `x-ratelimit-remaining` and `x-ratelimit-reset` (seconds); a refused one is a 429 `RATE_LIMITED`
 * problem with `retry-after` as well.
 */
export function registerRateLimit(app: FastifyInstance, options: RateLimitOptions): FixedWindowLimiter {
  const limiter = new FixedWindowLimiter(options.max, options.windowMs, options.maxClients);
  const { exempt, max } = options;
  const now = options.now ?? Date.now;
  // a callback hook, not an async one: it runs on every request
  app.addHook("onRequest", (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    if (exempt(request)) {
      done();
      return;
    }
    const hit = limiter.hit(clientKey(request.ip), now());
    const resetS = Math.ceil(hit.resetInMs / 1000);
    reply.header("x-ratelimit-limit", max);
    reply.header("x-ratelimit-remaining", Math.max(0, max - hit.count));
    reply.header("x-ratelimit-reset", resetS);
    if (hit.count > max) {
      reply.header("retry-after", resetS);
      done(new SignalboxError("RATE_LIMITED", RATE_LIMITED_MESSAGE));
      return;
    }
    done();
  });
  return limiter;
}
