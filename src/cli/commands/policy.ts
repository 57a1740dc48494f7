/** `signalbox policy check` and `signalbox policy test`: thin wrappers over the policy compiler and test runner. */

import { readFile } from "node:fs/promises";
import { relative, resolve } from "node:path";
import type { Command } from "commander";
import { formatProblem, isSignalboxError } from "../../errors/signalbox-error.js";
import { checkPolicy } from "../../policy/compile.js";
import { loadPolicy, readFromDisk } from "../../policy/load.js";
import { loadTestFile, runTestFile } from "../../policy-tests/test-cases.js";
import type { CliIO } from "../io.js";

function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith("..") ? file : rel;
}

async function check(file: string, io: CliIO): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    io.err(`${file}: cannot read the policy: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const problems = checkPolicy(text, file, { readFile: readFromDisk });
  if (problems.length > 0) {
    for (const p of problems) io.err(formatProblem(p));
    io.err(`${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
    return 1;
  }
  const policy = await loadPolicy(file);
  io.out(
    `${file}: ok (policy "${policy.id}" revision "${policy.revision}", ${policy.segments.length} segment${policy.segments.length === 1 ? "" : "s"})`,
  );
  return 0;
}

async function test(files: readonly string[], policyFile: string | undefined, io: CliIO): Promise<number> {
  let passed = 0;
  let failed = 0;
  const override = policyFile ? await loadPolicy(resolve(policyFile)) : undefined;
  for (const file of files) {
    try {
      const suite = await loadTestFile(file);
      const results = await runTestFile(suite, override ? { policy: override } : {});
      for (const r of results) {
        if (r.passed) {
          passed++;
          io.out(`pass  ${r.name}`);
        } else {
          failed++;
          io.out(`FAIL  ${r.name}  (${shown(r.file)}:${r.line})`);
          for (const f of r.failures) io.out(`        ${f}`);
        }
      }
    } catch (err) {
      failed++;
      if (!isSignalboxError(err)) throw err;
      io.err(`${file}: ${err.message}`);
      for (const p of err.problems) io.err(`  ${formatProblem(p)}`);
    }
  }
  io.out(`${passed} passed, ${failed} failed`);
  if (failed > 0) io.err(`signalbox: ${failed} policy test case${failed === 1 ? "" : "s"} failed [POLICY_TEST_FAILED]`);
  return failed > 0 ? 1 : 0;
}

export function registerPolicyCommands(program: Command, io: CliIO): void {
  const policy = program.command("policy").description("check policies and run policy tests");
  policy
    .command("check")
    .description("compile a policy and list every problem as file:line:col: message")
    .argument("<file>", "the policy file")
    .action(async (file: string) => {
      process.exitCode = await check(file, io);
    });
  policy
    .command("test")
    .description("run policy test files (YAML cases with requests, history and expected paths)")
    .argument("<files...>", "test files")
    .option("--policy <file>", "the policy to test (default: the one each test file names)")
    .action(async (files: string[], options: { policy?: string }) => {
      process.exitCode = await test(files, options.policy, io);
    });
}
