/** Flags a person's device that is unmanaged, lacks EDR, is non-compliant or runs an outdated OS. */

import type { DetectorFinding, Severity } from "../model/finding.js";
import type { JsonObject } from "../model/request.js";
import { type Detector, type DetectorContext, numParam } from "./detector.js";
import { compareVersions, versionParts } from "./os-version.js";

/** The configured minimum version for an OS, matched case-insensitively on the OS name. */
function minimumFor(ctx: DetectorContext, os: string): string | undefined {
  const table = ctx.params.min_os_versions;
  if (!table || typeof table !== "object" || Array.isArray(table)) return undefined;
  const wanted = os.toLowerCase();
  for (const [name, version] of Object.entries(table)) {
    if (name.toLowerCase() === wanted && typeof version === "string") return version;
  }
  return undefined;
}

export const devicePostureDetector: Detector = {
  id: "device_posture",
  description: "the device is unmanaged, has no EDR, is non-compliant or runs an OS older than the configured minimum",
  defaults: {
    points: 15,
    non_compliant_points: 30,
    min_os_versions: { macOS: "14.0", Windows: "10.0.19045", iOS: "17.0", iPadOS: "17.0", Android: "13" },
  },
  applies: (ctx) => ctx.kind === "human",
  needs() {},
  detect(ctx): DetectorFinding | undefined {
    const d = ctx.request.context?.device;
    if (!d || typeof d !== "object") return undefined;
    const issues: string[] = [];
    const base = numParam(ctx, "points", 15);
    let points = 0;
    // Only an explicit `false` is a finding: a PEP that does not know the posture says nothing.
    if (d.managed === false) {
      issues.push("unmanaged");
      points += base;
    }
    if (d.edr === false) {
      issues.push("no_edr");
      points += base;
    }
    if (d.compliant === false) {
      issues.push("non_compliant");
      points += numParam(ctx, "non_compliant_points", 30);
    }
    const evidence: JsonObject = {};
    if (typeof d.os === "string" && typeof d.os_version === "string") {
      const min = minimumFor(ctx, d.os);
      const have = versionParts(d.os_version);
      const need = min === undefined ? undefined : versionParts(min);
      if (min !== undefined && have && need && compareVersions(have, need) < 0) {
        issues.push("outdated_os");
        points += base;
        evidence.os = d.os;
        evidence.os_version = d.os_version;
        evidence.min_os_version = min;
      }
    }
    if (issues.length === 0) return undefined;
    points = Math.min(100, points);
    const severity: Severity =
      issues.includes("non_compliant") || issues.length >= 3 ? "high" : issues.length === 2 ? "medium" : "low";
    return {
      severity,
      points,
      code: "device_posture",
      message: `device posture issues: ${issues.join(", ")}`,
      evidence: { issues, device: typeof d.id === "string" ? d.id : null, ...evidence },
    };
  },
};
