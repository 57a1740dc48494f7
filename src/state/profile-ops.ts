/** Applying profile updates (`see`, `set`) to a profile document; shared by every adapter that stores documents. */

import type { Profile, StateUpdate } from "./port.js";

type ProfileUpdate = Extract<StateUpdate, { op: "see" } | { op: "set" }>;

export function applyToProfile(p: Profile, u: ProfileUpdate): void {
  if (u.op === "set") {
    p.values[u.field] = u.value;
    return;
  }
  let set = p.sets[u.field];
  if (!set) {
    set = {};
    p.sets[u.field] = set;
  }
  const s = set[u.value];
  if (s) {
    s.n += 1;
    if (u.at > s.last) s.last = u.at;
    if (u.at < s.first) s.first = u.at;
    return;
  }
  set[u.value] = { n: 1, first: u.at, last: u.at };
  const keys = Object.keys(set);
  if (keys.length > u.cap) evictLeastRecent(set, keys.length - u.cap);
}

function evictLeastRecent(set: Record<string, { last: number }>, howMany: number): void {
  const byAge = Object.entries(set).sort((a, b) => a[1].last - b[1].last);
  for (let i = 0; i < howMany; i++) {
    const victim = byAge[i];
    if (victim) delete set[victim[0]];
  }
}
