/** Flags a login or access from a device this person has not used before, more strongly when it is unmanaged. */

import type { DetectorFinding } from "../model/finding.js";
import { type Detector, numParam } from "./detector.js";
import { deviceKeyOf } from "./device-key.js";
import { freshSet, freshSince, hasLearnedAnything, isKnown, seeUpdate } from "./learned-values.js";
import { mayTeach } from "./login-attempt.js";

const FIELD = "devices";

export const newDeviceDetector: Detector = {
  id: "new_device",
  description: "a person uses a device (or browser family) not seen for them before",
  defaults: {
    points: 20,
    unmanaged_points: 35,
    first_seen_points: 5,
    cap: 50,
    max_age_days: 180,
  },
  applies: (ctx) => ctx.kind === "human",
  needs(ctx, needs) {
    needs.profile(ctx.subjectKey);
  },
  detect(ctx, state): DetectorFinding | undefined {
    const device = deviceKeyOf(ctx);
    if (!device) return undefined;
    const profile = state.profile(ctx.subjectKey);
    const since = freshSince(ctx);
    if (isKnown(profile, FIELD, device.key, since)) return undefined;
    const known = freshSet(profile, FIELD, since).size;
    const managed = ctx.request.context?.device?.managed;
    const evidence = {
      device: device.key,
      source: device.source,
      known_devices: known,
      managed: typeof managed === "boolean" ? managed : null,
    };
    if (known === 0) {
      // Nothing to compare with: every device of a never-seen identity is "new", so say so weakly.
      const identityIsNew = !hasLearnedAnything(profile);
      return {
        severity: "info",
        points: numParam(ctx, "first_seen_points", 5),
        code: identityIsNew ? "first_seen_identity" : "first_seen_device",
        message: identityIsNew ? "first request seen for this identity" : "first device recorded for this identity",
        evidence,
      };
    }
    const unmanaged = managed === false;
    return {
      severity: unmanaged ? "medium" : "low",
      points: unmanaged ? numParam(ctx, "unmanaged_points", 35) : numParam(ctx, "points", 20),
      code: "new_device",
      message: unmanaged ? "new unmanaged device for this identity" : "new device for this identity",
      evidence,
    };
  },
  update(ctx, _state, sink) {
    const device = deviceKeyOf(ctx);
    if (device && mayTeach(ctx)) sink.learn(seeUpdate(ctx, FIELD, device.key, 50));
  },
};
