/** Runs `signalbox serve` or `signalbox audit …` from the sources, for tests that need real processes. */

import { Command } from "commander";
import { registerAuditCommands } from "../../src/cli/commands/audit.js";
import { registerServeCommand } from "../../src/cli/commands/serve.js";
import { PROCESS_IO } from "../../src/cli/io.js";

const program = new Command().exitOverride();
registerServeCommand(program, PROCESS_IO);
registerAuditCommands(program, PROCESS_IO);
await program.parseAsync(process.argv.slice(2), { from: "user" });
