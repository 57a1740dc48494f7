/** The hot-path counter and histogram render exactly like prom-client's own, from the same observations. */

import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { HotCounter, HotHistogram } from "../../src/server/hot-metrics.js";

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVED: [string, number][] = [
  ["/a", 0.0005],
  ["/a", 0.001],
  ["/b", 0.05],
  ["/a", 0.5],
  ["/b", 7],
  ['/q"uote\\', 0.02],
];

describe("hot metrics", () => {
  it("render the same Prometheus text as prom-client's Counter and Histogram", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const counter = new HotCounter("t_requests_total", "requests", ["route", "status"], ours);
    const histogram = new HotHistogram("t_duration_seconds", "duration", ["route"], BUCKETS, ours);
    const bare = new HotHistogram("t_bare_seconds", "no labels", [], BUCKETS, ours);
    const pCounter = new Counter({
      name: "t_requests_total",
      help: "requests",
      labelNames: ["route", "status"],
      registers: [theirs],
    });
    const pHistogram = new Histogram({
      name: "t_duration_seconds",
      help: "duration",
      labelNames: ["route"],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const pBare = new Histogram({ name: "t_bare_seconds", help: "no labels", buckets: BUCKETS, registers: [theirs] });

    expect(await ours.metrics()).toBe(await theirs.metrics());
    for (const [route, seconds] of OBSERVED) {
      counter.child(route, "200").inc();
      pCounter.labels({ route, status: "200" }).inc();
      histogram.child(route).observe(seconds);
      pHistogram.labels({ route }).observe(seconds);
      bare.child().observe(seconds);
      pBare.observe(seconds);
    }
    counter.child("/a", "500").inc(3);
    pCounter.labels({ route: "/a", status: "500" }).inc(3);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  });

  it("keep one child per label set and start from zero after a reset", async () => {
    const registry = new Registry();
    const counter = new HotCounter("t_total", "t", ["a", "b"], registry);
    expect(counter.child("x", "y")).toBe(counter.child("x", "y"));
    counter.child("x", "y").inc();
    counter.child("x", "z").inc();
    expect((await counter.get()).values.map((v) => [v.labels, v.value])).toEqual([
      [{ a: "x", b: "y" }, 1],
      [{ a: "x", b: "z" }, 1],
    ]);
    registry.resetMetrics();
    expect((await counter.get()).values).toEqual([]);
  });

  it("ignore a value that is not a finite number instead of throwing", async () => {
    const h = new HotHistogram("t_seconds", "t", [], BUCKETS, new Registry());
    h.child().observe(Number.NaN);
    h.child().observe(0.002);
    expect(h.child().count).toBe(1);
  });
});
