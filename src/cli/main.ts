/** The `signalbox` command line: parses arguments, runs one command, and returns its exit code. */

import { Command, CommanderError } from "commander";
import { ENGINE_VERSION } from "../engine/create-engine.js";
import { formatProblem, isSignalboxError } from "../errors/signalbox-error.js";
import { registerAuditCommands } from "./commands/audit.js";
import { registerBenchCommand } from "./commands/bench.js";
import { registerDemoCommand } from "./commands/demo.js";
import { registerEvalCommand } from "./commands/eval.js";
import { registerPolicyCommands } from "./commands/policy.js";
import { registerServeCommand } from "./commands/serve.js";
import { registerSimulateCommand } from "./commands/simulate.js";
import { type CliIO, PROCESS_IO } from "./io.js";

export function buildProgram(io: CliIO): Command {
  const program = new Command()
    .name("signalbox")
    .description("Risk segmentation and adaptive access for people and machine identities")
    .version(ENGINE_VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerServeCommand(program, io);
  registerDemoCommand(program, io);
  registerPolicyCommands(program, io);
  registerAuditCommands(program, io);
  registerSimulateCommand(program, io);
  registerEvalCommand(program, io);
  registerBenchCommand(program, io);
  return program;
}

/** Runs the CLI with `argv` (without the node and script names) and resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIO = PROCESS_IO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (isSignalboxError(err)) {
      io.err(`signalbox: ${err.message} [${err.code}]`);
      for (const p of err.problems) io.err(`  ${formatProblem(p)}`);
      return err.code === "CONFIG_INVALID" || err.code === "POLICY_INVALID" ? 2 : 1;
    }
    throw err;
  }
  return typeof process.exitCode === "number" ? process.exitCode : 0;
}
