import { describe, expect, it } from "vitest";
import {
  type FeatureCounts,
  type History,
  LOGIN_FEATURES,
  type LoginFeature,
  loginLikelihood,
  populationProbabilities,
} from "../../src/scoring/likelihood-model.js";

function counts(values: Record<string, number>): FeatureCounts {
  const entries = Object.entries(values);
  return {
    count: (v) => values[v] ?? 0,
    total: entries.reduce((s, [, n]) => s + n, 0),
    distinct: entries.length,
  };
}

function history(partial: Partial<Record<LoginFeature, Record<string, number>>>): History {
  const h = {} as Record<LoginFeature, FeatureCounts>;
  for (const f of LOGIN_FEATURES) h[f] = counts(partial[f] ?? {});
  return h;
}

const population = history({
  country: { NO: 900, SE: 90, US: 10 },
  asn: { AS2119: 600, AS12929: 300, AS3301: 90, AS7922: 10 },
  ip: { "198.51.100.10": 20, "198.51.100.11": 5 },
  device_type: { desktop: 700, mobile: 300 },
});

const alice = history({
  country: { NO: 20 },
  asn: { AS2119: 20 },
  ip: { "198.51.100.10": 20 },
  device_type: { desktop: 20 },
});

const options = { smoothing: 1, attacker: "population" as const };

describe("loginLikelihood", () => {
  it("gives an unseen value the ratio (n + α) / α under the population attacker", () => {
    const r = loginLikelihood({ country: "US" }, alice, population, options);
    expect(r.features).toHaveLength(1);
    expect(r.logRatio).toBeCloseTo(Math.log(21), 10);
    const r3 = loginLikelihood({ country: "US" }, alice, population, { smoothing: 3, attacker: "population" });
    expect(r3.logRatio).toBeCloseTo(Math.log(23 / 3), 10);
  });

  it("makes a habitual value evidence for the user (negative log ratio)", () => {
    const r = loginLikelihood({ country: "NO", asn: "AS2119", ip: "198.51.100.10" }, alice, population, options);
    for (const f of r.features) expect(f.logRatio).toBeLessThan(0);
    expect(r.logRatio).toBeLessThan(0);
  });

  it("adds up per-feature log ratios and skips missing features", () => {
    const r = loginLikelihood({ country: "SE", asn: "AS3301", device_type: "mobile" }, alice, population, options);
    expect(r.features.map((f) => f.feature)).toEqual(["country", "asn", "device_type"]);
    const sum = r.features.reduce((s, f) => s + f.logRatio, 0);
    expect(r.logRatio).toBeCloseTo(sum, 12);
    expect(r.features[0]).toMatchObject({
      value: "SE",
      userCount: 0,
      userTotal: 20,
      populationCount: 90,
      populationTotal: 1000,
    });
    expect(loginLikelihood({}, alice, population, options)).toEqual({ logRatio: 0, features: [] });
  });

  it("is neutral when the user has no history at all", () => {
    const r = loginLikelihood({ country: "US", asn: "AS7922" }, history({}), population, options);
    for (const f of r.features) expect(f.logRatio).toBeCloseTo(0, 12);
  });

  it("under the uniform attacker, rates an unseen rare value riskier than an unseen common one", () => {
    const uniform = { smoothing: 1, attacker: "uniform" as const };
    const rare = loginLikelihood({ country: "US" }, alice, population, uniform).logRatio;
    const common = loginLikelihood({ country: "SE" }, alice, population, uniform).logRatio;
    expect(rare).toBeGreaterThan(common);
  });
});

describe("populationProbabilities", () => {
  it("backs off an unseen IP to a share of its ASN's probability", () => {
    const p = populationProbabilities({ country: "NO", asn: "AS2119", ip: "192.0.2.1" }, population);
    const pAsn = p.get("asn") ?? 0;
    const pIp = p.get("ip") ?? 0;
    expect(pIp).toBeGreaterThan(0);
    expect(pIp).toBeLessThan(pAsn);
    // A seen IP is likelier than an unseen one in the same ASN.
    const seen = populationProbabilities({ country: "NO", asn: "AS2119", ip: "198.51.100.10" }, population);
    expect(seen.get("ip") ?? 0).toBeGreaterThan(pIp);
  });

  it("gives a value never seen in an empty population a finite probability", () => {
    const p = populationProbabilities({ country: "NO" }, history({}));
    expect(p.get("country")).toBe(1);
  });
});
