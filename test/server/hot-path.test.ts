/** The evaluation hot path's shortcuts: the access-log choice, the depth pre-check (metric children: hot-metrics.test.ts). */

import { describe, expect, it } from "vitest";
import { deservesLogLine, SLOW_REQUEST_MS } from "../../src/server/access-log.js";
import { jsonDepthExceeds, mayExceedDepth } from "../../src/server/json-body.js";

describe("access log line choice", () => {
  it("logs errors and slow requests, and every request only when asked", () => {
    expect(deservesLogLine(false, 200, 1)).toBe(false);
    expect(deservesLogLine(false, 400, 1)).toBe(true);
    expect(deservesLogLine(false, 503, 1)).toBe(true);
    expect(deservesLogLine(false, 200, SLOW_REQUEST_MS)).toBe(true);
    expect(deservesLogLine(true, 200, 1)).toBe(true);
  });
});

describe("JSON depth pre-check", () => {
  const nest = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;

  it("agrees with the exact scan on deep, shallow and string-laden texts", () => {
    const texts = [
      nest(5),
      nest(33),
      `{"a":${nest(31)}}`,
      `{"a":${nest(32)}}`,
      `{"s":"${"{".repeat(50)}"}`,
      `{"s":"${"[".repeat(40)}","b":${nest(3)}}`,
      '{"subject":{"type":"user","id":"u1","properties":{"roles":["staff"]}}}',
    ];
    for (const t of texts) expect(mayExceedDepth(t, 32)).toBe(jsonDepthExceeds(t, 32));
  });

  it("finds a too-deep body", () => {
    expect(mayExceedDepth(`{"a":${nest(40)}}`, 32)).toBe(true);
    expect(mayExceedDepth(`{"a":${nest(2)}}`, 32)).toBe(false);
  });
});
