import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loginLikelihoodDetector as detector, POPULATION_KEY, uaHash } from "../../src/detectors/login-likelihood.js";
import type { Enrichment } from "../../src/enrich/enrichment.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { SUMMARY_MIN_SIZE, setSummaryReads, summaryOf } from "../../src/state/profile-summary.js";
import { runStep } from "./harness.js";
import { access, failedLogin, HOUR, login, OSLO, SYDNEY, T0 } from "./people-requests.js";

const FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0";
const ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36";

/** `count` trusted logins from Oslo with Firefox on Windows, one hour apart. */
async function history(store: MemoryStateStore, user: string, count: number, start = T0): Promise<number> {
  for (let i = 0; i < count; i++) {
    await runStep(detector, store, {
      request: login(user, { user_agent: FIREFOX }),
      now: start + i * HOUR,
      enrichment: OSLO,
    });
  }
  return start + count * HOUR;
}

async function profileOf(store: MemoryStateStore, key: string) {
  const snap = await store.read({ profiles: [key], counters: [], claims: [] }, T0);
  return snap.profiles.get(key);
}

describe("login_likelihood", () => {
  let store: MemoryStateStore;
  beforeEach(() => {
    store = new MemoryStateStore();
  });

  it("stays silent below min_logins, while learning", async () => {
    const t = await history(store, "alice", 4);
    const r = await runStep(detector, store, {
      request: login("alice", { user_agent: ANDROID }),
      now: t,
      enrichment: SYDNEY,
    });
    expect(r.finding).toBeUndefined();
    expect(r.learn.length).toBeGreaterThan(0);
  });

  it("flags a login from a new country, network and client as high, with evidence per feature", async () => {
    const t = await history(store, "alice", 20);
    const r = await runStep(detector, store, {
      request: login("alice", { user_agent: ANDROID }),
      now: t,
      enrichment: SYDNEY,
      trusted: false,
    });
    expect(r.finding).toMatchObject({ code: "login_likelihood", severity: "high", points: 45 });
    const ev = r.finding?.evidence ?? {};
    expect(ev.logins).toBe(20);
    expect(ev.attacker_model).toBe("population");
    expect(ev.unfamiliar).toEqual(["country", "asn", "ip", "device_type", "os", "browser", "ua"]);
    // Every feature is unseen for a 20-login history: each contributes ln(21) under smoothing α = 1.
    expect(ev.log_ratio).toBeCloseTo(7 * Math.log(21), 1);
    const features = ev.features as Array<Record<string, unknown>>;
    expect(features[0]).toMatchObject({ feature: "country", value: "AU", user_count: 0, user_total: 20 });
    expect(features.find((f) => f.feature === "ua")?.value).toMatch(/^[0-9a-f]{16}$/);
  });

  it("does not flag the usual login, nor a new address inside the usual network", async () => {
    const t = await history(store, "alice", 20);
    const usual = await runStep(detector, store, {
      request: login("alice", { user_agent: FIREFOX }),
      now: t,
      enrichment: OSLO,
    });
    expect(usual.finding).toBeUndefined();
    const newIp: Enrichment = { ...OSLO, ip: "198.51.100.77" };
    const r = await runStep(detector, store, {
      request: login("alice", { user_agent: FIREFOX }),
      now: t + 1,
      enrichment: newIp,
    });
    expect(r.finding).toBeUndefined();
  });

  it("grades a partly new login lower than a wholly new one", async () => {
    const t = await history(store, "alice", 20);
    // New country, network and address, familiar browser: three unseen features ≈ 3 × ln 21 ≈ 9.1.
    const abroad: Enrichment = { ...SYDNEY, client: OSLO.client };
    const r = await runStep(detector, store, {
      request: login("alice", { user_agent: FIREFOX }),
      now: t,
      enrichment: abroad,
      trusted: false,
    });
    expect(r.finding?.severity).toBe("medium");
    expect(r.finding?.points).toBe(25);
    expect(r.finding?.evidence.log_ratio).toBeGreaterThan(3 * Math.log(21) - 0.5);
    expect(r.finding?.evidence.log_ratio).toBeLessThan(3 * Math.log(21) + 0.5);
    expect(r.finding?.evidence.unfamiliar).toEqual(["country", "asn", "ip"]);
  });

  it("learns the user's and the population's history only from trusted, non-failed logins", async () => {
    const t = await history(store, "alice", 20);
    for (let i = 0; i < 10; i++) {
      await runStep(detector, store, {
        request: login("alice", { user_agent: ANDROID }),
        now: t + i,
        enrichment: SYDNEY,
        trusted: false,
      });
    }
    const failed = await runStep(detector, store, {
      request: failedLogin("alice", { user_agent: ANDROID }),
      now: t + 20,
      enrichment: SYDNEY,
    });
    expect(failed.learn).toHaveLength(0);
    const population = await profileOf(store, POPULATION_KEY);
    expect(population?.sets.login_countries).toEqual({ NO: { n: 20, first: T0, last: T0 + 19 * HOUR } });
    const still = await runStep(detector, store, {
      request: login("alice", { user_agent: ANDROID }),
      now: t + 30,
      enrichment: SYDNEY,
    });
    expect(still.finding?.severity).toBe("high");
  });

  it("flags a new network in the usual country as low", async () => {
    const t = await history(store, "alice", 20);
    const otherIsp: Enrichment = {
      ...OSLO,
      ip: "192.0.2.30",
      network: { asn: 12929, org: "Telia", prefix: "192.0.2.0/24", hosting: false, anonymizer: false },
    };
    const r = await runStep(detector, store, {
      request: login("alice", { user_agent: FIREFOX }),
      now: t,
      enrichment: otherIsp,
      trusted: false,
    });
    expect(r.finding).toMatchObject({ severity: "low", points: 10 });
    expect(r.finding?.evidence.unfamiliar).toEqual(["asn", "ip"]);
  });

  it("applies only to logins and scores nothing without features", async () => {
    expect((await runStep(detector, store, { request: access("alice"), now: T0 })).applies).toBe(false);
    const t = await history(store, "alice", 10);
    const bare = await runStep(detector, store, { request: login("alice"), now: t });
    expect(bare.finding).toBeUndefined();
    expect(bare.learn).toHaveLength(0);
  });

  describe("with a large population", () => {
    afterEach(() => setSummaryReads(true));

    /** One trusted login each for `count` people, from `count` different networks, an hour apart. */
    async function population(count: number): Promise<number> {
      for (let i = 0; i < count; i++) {
        await runStep(detector, store, {
          request: login(`p${i}`, { user_agent: `agent ${i % 90}` }),
          now: T0 + i * HOUR,
          enrichment: {
            ...OSLO,
            ip: `198.51.${i}.10`,
            geo: { country: `C${i % 70}`, source: "database" },
            network: { asn: 64_000 + i, prefix: `198.51.${i}.0/24`, hosting: false, anonymizer: false },
          },
        });
      }
      return history(store, "alice", 20, T0 + count * HOUR);
    }

    it("answers the same from the population's set summaries as from a scan, whether every value is fresh or not", async () => {
      const t = await population(SUMMARY_MIN_SIZE * 2);
      const sets = (await profileOf(store, POPULATION_KEY))?.sets ?? {};
      expect(Object.keys(sets.login_ips ?? {}).length).toBeGreaterThan(SUMMARY_MIN_SIZE);
      expect(summaryOf(sets.login_ips ?? {})).toBeDefined();
      // 180 days: every value is fresh (answered from the summaries); 4 days: the older half is stale (scanned).
      for (const max_age_days of [180, 4]) {
        const step = {
          request: login("alice", { user_agent: ANDROID }),
          now: t,
          enrichment: { ...SYDNEY, ip: "198.51.3.10" },
          params: { max_age_days },
          trusted: false,
        };
        setSummaryReads(true);
        const fromSummaries = await runStep(detector, store, step);
        setSummaryReads(false);
        const fromScans = await runStep(detector, store, step);
        expect(fromSummaries.finding).toBeDefined();
        expect(fromSummaries.finding).toEqual(fromScans.finding);
      }
    });
  });
});

describe("the user agent's short hash", () => {
  const sha16 = (ua: string) => createHash("sha256").update(ua).digest("hex").slice(0, 16);

  it("is the first 16 hex digits of the SHA-256, the same for a string seen again", () => {
    expect(uaHash("Mozilla/5.0 (X11; Linux x86_64)")).toBe(sha16("Mozilla/5.0 (X11; Linux x86_64)"));
    expect(uaHash("Mozilla/5.0 (X11; Linux x86_64)")).toBe(sha16("Mozilla/5.0 (X11; Linux x86_64)"));
    expect(uaHash("agent ü €")).toBe(sha16("agent ü €"));
  });

  it("stays right for every string past the cache's bound (the cache empties, nothing is mixed up)", () => {
    const agents = Array.from({ length: 10_000 }, (_, i) => `agent/${i}`);
    for (const ua of agents) uaHash(ua);
    for (const ua of [agents[0], agents[4095], agents[4096], agents[9999]] as string[]) {
      expect(uaHash(ua)).toBe(sha16(ua));
    }
  });
});
