/** Where CLI commands write: injected so tests capture output instead of reading the process streams. */

export interface CliIO {
  out(s: string): void;
  err(s: string): void;
}

export const PROCESS_IO: CliIO = {
  out: (s) => {
    process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
  },
  err: (s) => {
    process.stderr.write(s.endsWith("\n") ? s : `${s}\n`);
  },
};
