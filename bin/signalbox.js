#!/usr/bin/env node
// The `signalbox` command: runs the compiled CLI from dist/ (built by `npm install` via `prepare`).
import { main } from "../dist/cli/main.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`signalbox: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
