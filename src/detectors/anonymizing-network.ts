/** Flags requests through an anonymiser (VPN, proxy, Tor) or, more weakly, from a hosting network. */

import type { DetectorFinding } from "../model/finding.js";
import { type Detector, numParam } from "./detector.js";
import { sourceAddress } from "./source-network.js";

export const anonymizingNetworkDetector: Detector = {
  id: "anonymizing_network",
  description: "a person connects through a VPN, proxy or Tor exit, or from a hosting / datacenter network",
  defaults: { points: 30, hosting_points: 15 },
  applies: (ctx) => ctx.kind === "human",
  needs() {},
  detect(ctx): DetectorFinding | undefined {
    const n = ctx.enrichment.network;
    if (!n || (!n.anonymizer && !n.hosting)) return undefined;
    // People rarely browse from datacenters, but corporate VPN egress and cloud desktops do: weaker than a known anonymiser.
    const kind = n.anonymizer ? "anonymizer" : "hosting";
    const evidence = {
      kind,
      ip: sourceAddress(ctx) ?? null,
      asn: typeof n.asn === "number" ? n.asn : null,
      org: n.org ?? null,
      anonymizer: n.anonymizer,
      hosting: n.hosting,
    };
    return kind === "anonymizer"
      ? {
          severity: "medium",
          points: numParam(ctx, "points", 30),
          code: "anonymizing_network",
          message: "request through an anonymising network (vpn, proxy or tor)",
          evidence,
        }
      : {
          severity: "low",
          points: numParam(ctx, "hosting_points", 15),
          code: "anonymizing_network",
          message: "request from a hosting or datacenter network",
          evidence,
        };
  },
};
