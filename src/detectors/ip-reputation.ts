/** Flags requests from an address on a configured IP reputation list (abuse, botnet, known attackers). */

import type { DetectorFinding } from "../model/finding.js";
import { type Detector, numParam } from "./detector.js";
import { sourceAddress } from "./source-network.js";

export const ipReputationDetector: Detector = {
  id: "ip_reputation",
  description: "the source address is on an IP reputation list",
  defaults: { points: 40 },
  applies: (ctx) => ctx.kind === "human",
  needs() {},
  detect(ctx): DetectorFinding | undefined {
    const r = ctx.enrichment.reputation;
    if (!r?.listed) return undefined;
    const ip = sourceAddress(ctx) ?? null;
    return {
      severity: "high",
      points: numParam(ctx, "points", 40),
      code: "ip_reputation",
      message:
        r.lists.length > 0
          ? `source address is listed on ${r.lists.map((l) => `"${l}"`).join(", ")}`
          : "source address is on an ip reputation list",
      evidence: { ip, lists: [...r.lists] },
    };
  },
};
