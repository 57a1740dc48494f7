/**
 * The two Lua scripts the Redis state adapter runs server-side: one applies a decision's whole read
 * (claims included) and one its whole write, each atomically and in one `EVALSHA`.
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

/** Op codes of the write script's ARGV, one letter each so the argument list stays short. */
export const OP = { see: "s", set: "v", incr: "i", distinct: "h", pending: "d" } as const;

/**
 * A decision's counters and claims, in one script. KEYS: the counter hashes, then the claim strings.
 * ARGV: counter count, claim count, now; then per counter its oldest and newest bucket; then per
 * claim holder JSON, expiresAt, ttlMs. Returns one flat list: per counter `{count, distinct}` (count
 * as a decimal string, since Lua would truncate a float reply), then per claim `{won, holder JSON}`.
 *
 * Profiles are not read here but by plain `HGETALL`s sent with it: handing a large hash
 * through Lua (reply → Lua table → reply) cost Redis about ten times what the `HGETALL` itself does.
 * A counter's HyperLogLog keys are derived from its hash key (`…:c` → `…:h:<bucket>`), so they
 * share its hash tag and its Cluster slot.
 *
 * A claim is an atomic get-or-set whose expiry is judged against the caller's `now`, not Redis's
 * clock, so replays on event time behave like live traffic; the Redis TTL only bounds retention.
 */
export const READ = script(
  "state_read",
  `
local nc, nk = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local out = {}
local a = 4
for i = 1, nc do
  local key = KEYS[i]
  local oldest, newest = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  a = a + 2
  local fields, hlls = {}, {}
  local base = string.sub(key, 1, -3) .. ":h:"
  for b = oldest, newest do
    local f = string.format("%d", b)
    fields[#fields + 1] = f
    hlls[#hlls + 1] = base .. f
  end
  local count = 0
  for _, s in ipairs(redis.call("HMGET", key, unpack(fields))) do
    if s then count = count + tonumber(s) end
  end
  -- PFCOUNT over several keys merges them into a full-size temporary HyperLogLog, so count only the
  -- buckets that exist; most counters have none.
  local distinct = 0
  local live = redis.call("EXISTS", unpack(hlls))
  if live == #hlls then
    distinct = redis.call("PFCOUNT", unpack(hlls))
  elseif live > 0 then
    local present = {}
    for _, h in ipairs(hlls) do
      if redis.call("EXISTS", h) == 1 then present[#present + 1] = h end
    end
    distinct = redis.call("PFCOUNT", unpack(present))
  end
  out[i] = { string.format("%.17g", count), distinct }
end

for i = 1, nk do
  local key = KEYS[nc + i]
  local holder, expiresAt, ttl = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  a = a + 3
  local first = nil
  local cur = redis.call("GET", key)
  if cur then
    local sep = string.find(cur, "|", 1, true)
    if sep and tonumber(string.sub(cur, 1, sep - 1)) > now then first = string.sub(cur, sep + 1) end
  end
  if first then
    out[nc + i] = { 0, first }
  else
    redis.call("SET", key, expiresAt .. "|" .. holder, "PX", ttl)
    out[nc + i] = { 1, holder }
  end
end
return out
`,
);

/**
 * One decision's write, applied in order and atomically. KEYS: every key written. ARGV: profile TTL
 * ms, then ops, each an op code and a 1-based index into KEYS:
 * `v, k, field, json` (set) · `s, k, field, value, at, cap` (see) · `i, k, ttlMs, oldest, bucket, by`
 * (incr) · `h, k, ttlMs, member` (distinct) · `d, k, json, px` (pending).
 *
 * `see` keeps `n:first:last` and evicts the least recently seen values beyond `cap` (ties broken by
 * value, so every node evicts the same one). A counter hash drops buckets older than the window, so
 * an ever-active counter stays small although its TTL keeps sliding. Each key's TTL is renewed once.
 */
export const WRITE = script(
  "state_write",
  `
local SEP = "\\31"
local profileTtl = ARGV[1]
local function num(x) return string.format("%.17g", x) end
local expire, trim = {}, {}
local i = 2
local n = #ARGV
while i <= n do
  local op, key = ARGV[i], KEYS[tonumber(ARGV[i + 1])]
  if op == "v" then
    redis.call("HSET", key, "v" .. SEP .. ARGV[i + 2], ARGV[i + 3])
    expire[key] = profileTtl
    i = i + 4
  elseif op == "s" then
    local field, value = ARGV[i + 2], ARGV[i + 3]
    local at, cap = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
    i = i + 6
    expire[key] = profileTtl
    local prefix = "s" .. SEP .. field .. SEP
    local hf = prefix .. value
    local cur = redis.call("HGET", key, hf)
    if cur then
      local cn, first, last = string.match(cur, "^([^:]+):([^:]+):([^:]+)$")
      cn, first, last = tonumber(cn) + 1, tonumber(first), tonumber(last)
      if at > last then last = at end
      if at < first then first = at end
      redis.call("HSET", key, hf, num(cn) .. ":" .. num(first) .. ":" .. num(last))
    else
      redis.call("HSET", key, hf, "1:" .. num(at) .. ":" .. num(at))
      local size = redis.call("HINCRBY", key, "c" .. SEP .. field, 1)
      if size > cap then
        -- HSCAN filters by the field's prefix inside Redis, so only this field's values reach Lua
        -- (HGETALL would copy the whole profile on every eviction).
        local pattern = string.gsub(prefix, "[%*%?%[%]\\\\]", "\\\\%0") .. "*"
        local members = {}
        local cursor = "0"
        repeat
          local page = redis.call("HSCAN", key, cursor, "MATCH", pattern, "COUNT", 1000)
          cursor = page[1]
          local all = page[2]
          for j = 1, #all, 2 do
            members[#members + 1] = { all[j], tonumber(string.match(all[j + 1], ":([^:]+)$")) }
          end
        until cursor == "0"
        table.sort(members, function(x, y)
          if x[2] == y[2] then return x[1] < y[1] end
          return x[2] < y[2]
        end)
        local excess = #members - cap
        for j = 1, excess do redis.call("HDEL", key, members[j][1]) end
        if excess < 0 then excess = 0 end
        redis.call("HSET", key, "c" .. SEP .. field, #members - excess)
      end
    end
  elseif op == "i" then
    redis.call("HINCRBYFLOAT", key, ARGV[i + 4], ARGV[i + 5])
    expire[key] = ARGV[i + 2]
    local oldest = tonumber(ARGV[i + 3])
    if not trim[key] or trim[key] < oldest then trim[key] = oldest end
    i = i + 6
  elseif op == "h" then
    redis.call("PFADD", key, ARGV[i + 3])
    expire[key] = ARGV[i + 2]
    i = i + 4
  elseif op == "d" then
    redis.call("SET", key, ARGV[i + 2], "PX", ARGV[i + 3])
    i = i + 4
  else
    return redis.error_reply("unknown state op '" .. tostring(op) .. "'")
  end
end
for key, oldest in pairs(trim) do
  if redis.call("HLEN", key) > ${COUNTER_BUCKETS + 1} then
    for _, f in ipairs(redis.call("HKEYS", key)) do
      if tonumber(f) < oldest then redis.call("HDEL", key, f) end
    end
  end
end
for key, ttl in pairs(expire) do redis.call("PEXPIRE", key, ttl) end
return 1
`,
);

export const SCRIPTS: readonly RedisScript[] = [READ, WRITE];
