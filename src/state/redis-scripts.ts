/**
 * The Lua scripts the Redis state adapter runs server-side, so every read-modify-write of one key is
 * atomic. Each script touches one key family under one hash tag, so it is valid on Redis Cluster.
 */

import { createHash } from "node:crypto";
import { COUNTER_BUCKETS } from "./port.js";

export interface RedisScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, source: string): RedisScript {
  return { name, source, sha: createHash("sha1").update(source).digest("hex") };
}

/**
 * Separator inside profile hash fields (ASCII unit separator): `v<US>field` holds a JSON value,
 * `s<US>field<US>value` holds `n:first:last`, `c<US>field` holds how many values `field` has.
 */
export const FIELD_SEP = "\x1f";

/**
 * Applies `see` and `set` to a profile hash. ARGV: ttlMs, then per update either
 * `v, field, json` or `s, field, value, at, cap`. Keeps stats and evicts the least recently seen
 * values beyond `cap` (ties broken by value, so every node evicts the same one).
 */
export const PROFILE_WRITE = script(
  "profile_write",
  `
local key = KEYS[1]
local SEP = "\\31"
local function num(x) return string.format("%.17g", x) end
local i = 2
while i <= #ARGV do
  if ARGV[i] == "v" then
    redis.call("HSET", key, "v" .. SEP .. ARGV[i + 1], ARGV[i + 2])
    i = i + 3
  else
    local field, value = ARGV[i + 1], ARGV[i + 2]
    local at, cap = tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
    i = i + 5
    local prefix = "s" .. SEP .. field .. SEP
    local hf = prefix .. value
    local cur = redis.call("HGET", key, hf)
    if cur then
      local n, first, last = string.match(cur, "^([^:]+):([^:]+):([^:]+)$")
      n, first, last = tonumber(n) + 1, tonumber(first), tonumber(last)
      if at > last then last = at end
      if at < first then first = at end
      redis.call("HSET", key, hf, num(n) .. ":" .. num(first) .. ":" .. num(last))
    else
      redis.call("HSET", key, hf, "1:" .. num(at) .. ":" .. num(at))
      local size = redis.call("HINCRBY", key, "c" .. SEP .. field, 1)
      if size > cap then
        local all = redis.call("HGETALL", key)
        local members = {}
        for j = 1, #all, 2 do
          if string.sub(all[j], 1, #prefix) == prefix then
            members[#members + 1] = { all[j], tonumber(string.match(all[j + 1], ":([^:]+)$")) }
          end
        end
        table.sort(members, function(a, b)
          if a[2] == b[2] then return a[1] < b[1] end
          return a[2] < b[2]
        end)
        local excess = #members - cap
        for j = 1, excess do redis.call("HDEL", key, members[j][1]) end
        if excess < 0 then excess = 0 end
        redis.call("HSET", key, "c" .. SEP .. field, #members - excess)
      end
    end
  end
end
redis.call("PEXPIRE", key, ARGV[1])
return 1
`,
);

/**
 * Adds increments to a counter hash (bucket → sum). ARGV: ttlMs, oldest bucket to keep, then
 * pairs of bucket and amount. Buckets older than the window are dropped so an ever-active counter
 * stays small although its TTL keeps sliding.
 */
export const COUNTER_INCR = script(
  "counter_incr",
  `
local key = KEYS[1]
for i = 3, #ARGV, 2 do
  redis.call("HINCRBYFLOAT", key, ARGV[i], ARGV[i + 1])
end
if redis.call("HLEN", key) > ${COUNTER_BUCKETS + 1} then
  local oldest = tonumber(ARGV[2])
  for _, f in ipairs(redis.call("HKEYS", key)) do
    if tonumber(f) < oldest then redis.call("HDEL", key, f) end
  end
end
redis.call("PEXPIRE", key, ARGV[1])
return 1
`,
);

/**
 * An atomic first-seen claim. ARGV: holder JSON, now, expiresAt, ttlMs. The stored value is
 * `expiresAt|holder` and expiry is judged against the decision's `now`, not Redis's clock, so
 * replays on event time behave like live traffic; the Redis TTL only bounds retention.
 * Returns `{1, holder}` when this call won, `{0, firstHolder}` otherwise.
 */
export const CLAIM = script(
  "claim",
  `
local cur = redis.call("GET", KEYS[1])
if cur then
  local sep = string.find(cur, "|", 1, true)
  if sep and tonumber(string.sub(cur, 1, sep - 1)) > tonumber(ARGV[2]) then
    return { 0, string.sub(cur, sep + 1) }
  end
end
redis.call("SET", KEYS[1], ARGV[3] .. "|" .. ARGV[1], "PX", ARGV[4])
return { 1, ARGV[1] }
`,
);

export const SCRIPTS: readonly RedisScript[] = [PROFILE_WRITE, COUNTER_INCR, CLAIM];
