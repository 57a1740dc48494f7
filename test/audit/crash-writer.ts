/**
 * Child process for the crash test: records decisions with many in flight on the SQLite trail in
 * the directory given as argument, and prints each decision number once its record is committed.
 */

import { openAuditTrail } from "../../src/audit/open-audit.js";
import { makeEntry } from "./fixtures.js";

const [dir, durability] = process.argv.slice(2);
if (!dir) throw new Error("usage: crash-writer DIR [normal|strict]");
const trail = await openAuditTrail(undefined, dir, { durability: durability === "strict" ? "strict" : "normal" });
let next = 1;
async function worker(): Promise<never> {
  for (;;) {
    const n = next++;
    await trail.recordDecision(makeEntry({ n }));
    process.stdout.write(`${n}\n`);
  }
}
await Promise.all(Array.from({ length: 64 }, worker));
