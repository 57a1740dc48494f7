/** Runs the state conformance suite against the in-memory adapter. */

import { MemoryStateStore } from "../../src/state/memory.js";
import { runStateConformance } from "./conformance.js";

runStateConformance("memory", async () => new MemoryStateStore(), undefined, {
  liveSnapshots:
    "the memory adapter returns its live profiles: a decision may see learning committed after its read, which no detector depends on, and copying the population profiles on every read cost more than the rest of the decision",
});
