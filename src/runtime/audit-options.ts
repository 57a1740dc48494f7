/** Turns the audit section of the service configuration into the options the audit trail opens with. */

import type { AuditOptions } from "../audit/open-audit.js";
import type { AuditTrailConfig } from "../config/serve-config.js";

/** Only what the operator set is passed on, so the trail's own defaults apply to the rest. */
export function auditOptionsOf(config: AuditTrailConfig): AuditOptions {
  const checkpoints = {
    ...(config.checkpointEvery !== undefined ? { every: config.checkpointEvery } : {}),
    ...(config.checkpointIntervalMs !== undefined ? { intervalMs: config.checkpointIntervalMs } : {}),
    ...(config.checkpointKeyFile !== undefined ? { keyFile: config.checkpointKeyFile } : {}),
  };
  return {
    durability: config.durability,
    ...(config.writerId !== undefined ? { writerId: config.writerId } : {}),
    ...(config.mask !== undefined ? { mask: config.mask } : {}),
    ...(config.maskKey !== undefined ? { maskKey: config.maskKey.reveal() } : {}),
    ...(Object.keys(checkpoints).length > 0 ? { checkpoints } : {}),
  };
}
