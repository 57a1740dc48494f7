/** Runs the state conformance suite against the in-memory adapter. */

import { MemoryStateStore } from "../../src/state/memory.js";
import { runStateConformance } from "./conformance.js";

runStateConformance("memory", async () => new MemoryStateStore());
