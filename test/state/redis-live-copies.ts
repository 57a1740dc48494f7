/** Why the Redis adapter, with its profile copies on, hands out live profiles (ADR 0018). */
export const LIVE_COPIES =
  "with profile copies on, the Redis adapter hands out its node-local copy of an identity profile and applies this node's later writes to it in place, like the memory adapter: copying the sets each write touches, to keep snapshots isolated, cost more node CPU than the profile parse the copy saves, and no detector depends on the difference";
