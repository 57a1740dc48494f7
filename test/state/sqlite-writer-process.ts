/** A child process for the SQLite multi-process test: claims one key and writes one counter and profile many times. */

import { SqliteStateStore } from "../../src/state/sqlite.js";

const { file, who, increments, at } = JSON.parse(process.argv[2] ?? "{}") as {
  file: string;
  who: string;
  increments: number;
  at: number;
};
const store = new SqliteStateStore({ file });
let won = false;
for (let i = 0; i < increments; i++) {
  if (i === increments / 2) {
    const snap = store.readSync(
      { profiles: [], counters: [], claims: [{ key: "k:shared", holder: { who }, ttlMs: 60_000 }] },
      at,
    );
    won = snap.claims.get("k:shared")?.won ?? false;
  }
  store.writeSync(
    [
      { op: "incr", counter: "c:shared", at, by: 1, windowMs: 60_000 },
      { op: "see", profile: "user:shared", field: "seen", value: `${who}-${i % 25}`, at: at + i, cap: 10_000 },
    ],
    at,
  );
}
await store.close();
process.send?.({ won }, () => process.exit(0));
