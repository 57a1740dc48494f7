/**
 * The login likelihood model in the style of Freeman et al. (NDSS 2016): how much likelier a login's
 * features are under an attacker than under this user's own history, as a sum of per-feature log
 * likelihood ratios. Pure arithmetic over counts; the `login_likelihood` detector feeds it state.
 */

/** Features in two hierarchies, each listed root first: country → ASN → IP, and device type → OS → browser → UA. */
export const LOGIN_FEATURES = ["country", "asn", "ip", "device_type", "os", "browser", "ua"] as const;
export type LoginFeature = (typeof LOGIN_FEATURES)[number];

/** The next coarser feature in the same hierarchy, used to back off for values the population has never shown. */
export const PARENT_FEATURE: Readonly<Record<LoginFeature, LoginFeature | undefined>> = {
  country: undefined,
  asn: "country",
  ip: "asn",
  device_type: undefined,
  os: "device_type",
  browser: "os",
  ua: "browser",
};

/** The values of one login; a missing feature is left out of the product (a ratio of 1). */
export type LoginFeatures = Partial<Record<LoginFeature, string>>;

/** Counts of one feature's values in a history (a user's logins, or the whole population's). */
export interface FeatureCounts {
  /** How often `value` was seen. */
  count(value: string): number;
  /** Total observations. */
  readonly total: number;
  /** Distinct values on record. */
  readonly distinct: number;
}

export type History = Readonly<Record<LoginFeature, FeatureCounts>>;

/**
 * `population`: the attacker looks like a random member of the population, p(x | attacker) = p(x),
 * the assumption Freeman et al. evaluate for attackers who know nothing of the victim's habits.
 * `uniform`: every known value (plus one unseen) is equally likely, which also penalises rare values.
 */
export type AttackerModel = "population" | "uniform";

export interface ModelOptions {
  /** Weight α of the population prior in the user's estimate; larger trusts short histories less. */
  readonly smoothing: number;
  readonly attacker: AttackerModel;
}

export interface FeatureRatio {
  readonly feature: LoginFeature;
  readonly value: string;
  /** Times the user was seen with this value, and the user's total for the feature. */
  readonly userCount: number;
  readonly userTotal: number;
  /** Times the population was seen with this value, and the population's total. */
  readonly populationCount: number;
  readonly populationTotal: number;
  readonly pUser: number;
  readonly pAttacker: number;
  /** ln(p(x | attacker) / p(x | user)): positive means more attacker-like. */
  readonly logRatio: number;
}

export interface LikelihoodResult {
  /** Sum of the per-feature log ratios (natural log): the log of the product of ratios. */
  readonly logRatio: number;
  readonly features: readonly FeatureRatio[];
}

/**
 * The population's probability of each present feature value, smoothed with one pseudo-count spread by
 * the hierarchy: an unseen IP inherits a share of its ASN's probability, an unseen ASN a share of its
 * country's, so a globally new value is rare but never impossible.
 */
export function populationProbabilities(features: LoginFeatures, population: History): Map<LoginFeature, number> {
  const out = new Map<LoginFeature, number>();
  for (const f of LOGIN_FEATURES) {
    const value = features[f];
    if (value === undefined) continue;
    const counts = population[f];
    let parentP = 1;
    for (let p = PARENT_FEATURE[f]; p !== undefined; p = PARENT_FEATURE[p]) {
      const known = out.get(p);
      if (known !== undefined) {
        parentP = known;
        break;
      }
    }
    const prior = parentP / (counts.distinct + 1);
    out.set(f, (counts.count(value) + prior) / (counts.total + 1));
  }
  return out;
}

/** The per-feature likelihood ratios of a login and their product, in log space. */
export function loginLikelihood(
  features: LoginFeatures,
  user: History,
  population: History,
  options: ModelOptions,
): LikelihoodResult {
  const alpha = options.smoothing > 0 ? options.smoothing : 1;
  const pop = populationProbabilities(features, population);
  const ratios: FeatureRatio[] = [];
  let sum = 0;
  for (const f of LOGIN_FEATURES) {
    const value = features[f];
    const pL = pop.get(f);
    if (value === undefined || pL === undefined) continue;
    const u = user[f];
    const userCount = u.count(value);
    // Dirichlet smoothing towards the population: a value the user never showed keeps a small probability.
    const pUser = (userCount + alpha * pL) / (u.total + alpha);
    const pAttacker = options.attacker === "uniform" ? 1 / (population[f].distinct + 1) : pL;
    const logRatio = Math.log(pAttacker) - Math.log(pUser);
    sum += logRatio;
    ratios.push({
      feature: f,
      value,
      userCount,
      userTotal: u.total,
      populationCount: population[f].count(value),
      populationTotal: population[f].total,
      pUser,
      pAttacker,
      logRatio,
    });
  }
  return { logRatio: sum, features: ratios };
}
