/** A child process for the single-owner test: opens a SQLite state file, reports the outcome, and holds it until told to go. */

import { SqliteStateStore } from "../../src/state/sqlite.js";

const file = process.argv[2] ?? "";
try {
  const store = await SqliteStateStore.open({ file });
  process.send?.({ opened: true });
  process.once("message", async () => {
    await store.close();
    process.exit(0);
  });
} catch (err) {
  process.send?.({ opened: false, code: (err as { code?: string }).code, message: (err as Error).message }, () =>
    process.exit(0),
  );
}
