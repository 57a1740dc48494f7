/** The evaluation hot path's shortcuts: the access-log choice, the depth pre-check, cached metric children. */

import { Counter, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { deservesLogLine, SLOW_REQUEST_MS } from "../../src/server/access-log.js";
import { jsonDepthExceeds, mayExceedDepth } from "../../src/server/json-body.js";
import { LabelledCache } from "../../src/server/metrics.js";

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

describe("cached metric children", () => {
  it("counts into the labelled series, one child per label set", async () => {
    const registry = new Registry();
    const counter = new Counter({ name: "t_total", help: "t", labelNames: ["a", "b"] as const, registers: [registry] });
    let made = 0;
    const cache = new LabelledCache((a, b) => {
      made++;
      return counter.labels({ a, b });
    });
    cache.get("x", "y").inc();
    cache.get("x", "y").inc();
    cache.get("x", "z").inc();
    expect(made).toBe(2);
    const values = (await counter.get()).values.map((v) => [v.labels.a, v.labels.b, v.value]);
    expect(values).toEqual(
      expect.arrayContaining([
        ["x", "y", 2],
        ["x", "z", 1],
      ]),
    );
  });
});
