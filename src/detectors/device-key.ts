/** A stable key for the device behind a request: the PEP's device id, else a fingerprint of the user agent's family. */

import { createHash } from "node:crypto";
import type { DetectorContext } from "./detector.js";

export interface DeviceKey {
  /** What the key is stored as in the profile's `devices` set. */
  readonly key: string;
  readonly source: "device_id" | "user_agent";
}

/**
 * The device id when the PEP sends one; otherwise a short hash of the browser family, OS and device
 * type (from enrichment, or the user-agent string with version numbers removed), so a browser update
 * does not look like a new device. Undefined when the request carries neither.
 */
export function deviceKeyOf(ctx: DetectorContext): DeviceKey | undefined {
  const id = ctx.request.context?.device?.id;
  if (typeof id === "string" && id.length > 0) return { key: `id:${id}`, source: "device_id" };
  const c = ctx.enrichment.client;
  let family: string | undefined;
  if (c && (c.browser || c.os)) family = `${c.browser ?? "?"}|${c.os ?? "?"}|${c.device}`;
  else {
    const ua = ctx.request.context?.user_agent;
    if (typeof ua === "string" && ua.trim().length > 0) family = ua.replace(/\d+([._]\d+)*/g, "#").trim();
  }
  if (family === undefined) return undefined;
  return { key: `ua:${createHash("sha256").update(family).digest("hex").slice(0, 16)}`, source: "user_agent" };
}
