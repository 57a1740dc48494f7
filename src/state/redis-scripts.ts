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

/**
 * The profile hash field holding its version (ADR 0018): a whole number the write script raises on
 * every call that changes the profile, and that never repeats for a key (see `WRITE`). It starts with
 * neither `v`, `s` nor `c`, so every reader of learned fields passes over it.
 */
export const VERSION_FIELD = "_v";

/** Suffix of a field's eviction index key, appended to its profile key with the field name. */
export const INDEX_SUFFIX = ":z:";

/** Op codes of the write script's ARGV, one letter each so the argument list stays short. */
export const OP = { see: "s", set: "v", incr: "i", distinct: "h", pending: "d" } as const;

/** How many ARGV entries each op takes, its code and key index included (see `WRITE`). */
export const OP_LENGTH: Readonly<Record<string, number>> = { s: 6, v: 4, i: 6, h: 4, d: 4 };

/** The ops that touch a profile, and so raise its version and have a `{before, after, evicted}` in the reply. */
export const PROFILE_OPS: ReadonlySet<string> = new Set([OP.see, OP.set]);

/**
 * The counters, claims and version checks of a decision (or of several, coalesced), in one script.
 * KEYS: the counter hashes, then the claim strings, then the profile hashes to check. ARGV: counter
 * count, claim count, profile count; then per counter its oldest and newest bucket and 1 to count
 * its distinct members (0: not asked, and its HyperLogLogs are not looked at); then per claim
 * holder JSON, expiresAt, ttlMs and the caller's now; then per profile the version of the node's
 * copy (`readArgs` in redis-read-batch.ts). Returns one flat list: per counter `{count, distinct}`
 * (count as a decimal string, since Lua would truncate a float reply), then per claim
 * `{won, holder JSON}`, then per profile `0` when its version is the copy's ("same"), else its whole
 * hash as `HGETALL` gives it.
 *
 * Profiles without a node copy are not read here but by plain `HGETALL`s sent with it: handing a
 * large hash through Lua (reply → Lua table → reply) cost Redis about ten times what the `HGETALL`
 * itself does. A version check is one `HGET`; only a copy that is out of date (another node wrote
 * the profile) pays for the hash through Lua, and that is rare where one node serves an identity.
 * A counter's HyperLogLog keys are derived from its hash key (`…:c` → `…:h:<bucket>`), so they
 * share its hash tag and its Cluster slot.
 *
 * A claim is an atomic get-or-set whose expiry is judged against the caller's `now`, not Redis's
 * clock, so replays on event time behave like live traffic; the Redis TTL only bounds retention.
 */
export const READ = script(
  "state_read",
  `
local nc, nk, np = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
local a = 4
for i = 1, nc do
  local key = KEYS[i]
  local oldest, newest, wanted = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), ARGV[a + 2] == "1"
  a = a + 3
  -- The buckets that exist (HGETALL: most counters have none, and building the eleven field names
  -- cost more than the call), summed oldest first as a float sum must always be.
  local count = 0
  local flat = redis.call("HGETALL", key)
  if #flat > 0 then
    local inWindow = {}
    for j = 1, #flat, 2 do
      local b = tonumber(flat[j])
      if b and b >= oldest and b <= newest then inWindow[b - oldest + 1] = tonumber(flat[j + 1]) end
    end
    for j = 1, newest - oldest + 1 do
      local v = inWindow[j]
      if v then count = count + v end
    end
  end
  local distinct = 0
  if wanted then
    local base = string.sub(key, 1, -3) .. ":h:"
    local hlls = {}
    for b = oldest, newest do hlls[#hlls + 1] = string.format("%s%d", base, b) end
    -- PFCOUNT over several keys merges them into a full-size temporary HyperLogLog, so count only
    -- the buckets that exist; most counters have none.
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
  end
  out[i] = { string.format("%.17g", count), distinct }
end

for i = 1, nk do
  local key = KEYS[nc + i]
  local holder, expiresAt, ttl, now = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
  a = a + 4
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

-- An absent profile is version 0 (the node's copy of it is empty); one written before versions
-- existed is -1, which no copy has.
for i = 1, np do
  local key = KEYS[nc + nk + i]
  local version = tonumber(redis.call("HGET", key, "${VERSION_FIELD}"))
  if not version then version = redis.call("EXISTS", key) == 1 and -1 or 0 end
  if version == tonumber(ARGV[a]) then
    out[nc + nk + i] = 0
  else
    out[nc + nk + i] = redis.call("HGETALL", key)
  end
  a = a + 1
end
return out
`,
);

/**
 * One decision's write (or several decisions' writes, coalesced one after another), applied in
 * order and atomically. KEYS: every key written. ARGV: profile TTL
 * ms, then ops, each an op code and a 1-based index into KEYS:
 * `v, k, field, json` (set) · `s, k, field, value, at, cap` (see) · `i, k, ttlMs, oldest, bucket, by`
 * (incr) · `h, k, ttlMs, member` (distinct) · `d, k, json, px` (pending).
 *
 * `see` keeps `n:first:last` and evicts the least recently seen values beyond `cap` (ties broken by
 * value, so every node evicts the same one). A field that has gone over its cap has an eviction
 * index, a sorted set `<profile key>:z:<field>` of its values scored by last-seen time (same hash
 * tag, same TTL as the profile): eviction is a `ZPOPMIN`, O(log n), not a scan and sort of the
 * field. Seeing a known value leaves the index alone, so a score may lag; eviction puts a popped
 * value that was seen since back at its real time and pops again. The index is (re)built from the
 * hash, with one `HSCAN`, whenever the field's count says it misses values: the first time over
 * the cap, a profile written before indexes existed, an expired index, a raised cap. Fields below
 * their cap, most of an identity's, have none. A counter hash drops buckets older than the window,
 * so an ever-active counter stays small although its TTL keeps sliding. Each key's TTL is renewed
 * once.
 *
 * Versions (ADR 0018): the first op of a call on a profile raises the hash's `_v` field, before any
 * other change, to `max(old + 1, Redis TIME in µs)` (an absent hash counts as version 0, one written
 * before versions existed as -1). While the hash lives its versions rise by at least one per call; a
 * re-created hash (after a TTL expiry, a `DEL`, a flush or a restore from an older backup) starts
 * from the clock, beyond every version issued before, so a version never names two contents.
 * Raising it first means that even a script that fails half-way leaves a new version on what it
 * changed. The script returns, per profile in the order the call first touched them,
 * `{version before, version after, evicted}`; `evicted` is 1 when a `see` on it went over its cap
 * (the node then drops its copy rather than guess which value Redis evicted).
 *
 * A profile's field writes (its version, its scalars, the stats of values seen again) wait in the
 * script and leave in one `HSET` per profile at the end of the call; anything else that changes
 * the profile (a new value's count, an eviction) sends what waits first, so the version still goes
 * out before or with every change. Measured with `bench/threads.ts --stores redis` (three
 * interleaved pairs): Redis's time per decision 46–52 µs against 55–58 µs with one `HSET` per write.
 */
export const WRITE = script(
  "state_write",
  `
local SEP = "\\31"
local profileTtl = ARGV[1]
local function num(x) return string.format("%.17g", x) end
local function lastSeen(stats) return tonumber(string.sub(stats, string.find(stats, ":[^:]*$") + 1)) end
local expire, trim = {}, {}
-- versions: per profile touched, its slot in out ({before, after, evicted} from there); an absent
-- profile was version 0, one written before versions existed -1
local out, slot, nowUs = {}, {}, nil
-- Field writes of a profile wait here (field, value, field, value, …) and leave in one HSET per
-- profile: most of a call's writes are known values seen again, one HSET each otherwise. A profile's
-- pending writes go out before any other command changes it (its version is the first of them).
local pending, pendingAt, pendingKeys = {}, {}, {}
local function put(key, field, value)
  local p = pending[key]
  if not p then
    p = {}
    pending[key] = p
    pendingAt[key] = {}
    pendingKeys[#pendingKeys + 1] = key
  end
  local at = pendingAt[key][field]
  if at then
    p[at + 1] = value
  else
    p[#p + 1] = field
    p[#p + 1] = value
    pendingAt[key][field] = #p - 1
  end
end
local function flush(key)
  local p = pending[key]
  if p and #p > 0 then
    redis.call("HSET", key, unpack(p))
    pending[key] = {}
    pendingAt[key] = {}
  end
end
local function get(key, field)
  local at = pendingAt[key] and pendingAt[key][field]
  if at then return pending[key][at + 1] end
  return redis.call("HGET", key, field)
end
local function touch(key)
  if slot[key] then return end
  if not nowUs then
    local t = redis.call("TIME")
    nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
  end
  local before = tonumber(redis.call("HGET", key, "${VERSION_FIELD}"))
  if not before then before = redis.call("EXISTS", key) == 1 and -1 or 0 end
  local after = math.max(before + 1, nowUs)
  put(key, "${VERSION_FIELD}", num(after))
  local pos = #out + 1
  slot[key] = pos
  out[pos], out[pos + 1], out[pos + 2] = before, after, 0
end
local i = 2
local n = #ARGV
while i <= n do
  local op, key = ARGV[i], KEYS[tonumber(ARGV[i + 1])]
  if op == "v" then
    touch(key)
    put(key, "v" .. SEP .. ARGV[i + 2], ARGV[i + 3])
    expire[key] = profileTtl
    i = i + 4
  elseif op == "s" then
    local field, value, at = ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
    local cap = tonumber(ARGV[i + 5])
    i = i + 6
    touch(key)
    expire[key] = profileTtl
    local hf = "s" .. SEP .. field .. SEP .. value
    local atn = tonumber(at)
    local cur = get(key, hf)
    if cur then
      -- n:first:last, rebuilt from the parts that did not change (every string made costs Lua);
      -- \`at\` is stored as the caller wrote it, the same number as its %.17g form
      local a = string.find(cur, ":", 1, true)
      local b = string.find(cur, ":", a + 1, true)
      local n = num(tonumber(string.sub(cur, 1, a - 1)) + 1)
      local stats
      if atn > tonumber(string.sub(cur, b + 1)) then
        stats = n .. string.sub(cur, a, b) .. at
      elseif atn < tonumber(string.sub(cur, a + 1, b - 1)) then
        stats = n .. ":" .. at .. string.sub(cur, b)
      else
        stats = n .. string.sub(cur, a)
      end
      put(key, hf, stats)
    else
      -- A new value changes more than its field (the count, maybe the eviction index): what waits
      -- goes out first, and the rest of this path writes at once.
      flush(key)
      redis.call("HSET", key, hf, "1:" .. at .. ":" .. at)
      local cf = "c" .. SEP .. field
      local size = redis.call("HINCRBY", key, cf, 1)
      if size > cap then
        out[slot[key] + 2] = 1
        local prefix = "s" .. SEP .. field .. SEP
        local idx = key .. "${INDEX_SUFFIX}" .. field
        if redis.call("ZCARD", idx) == size - 1 then
          redis.call("ZADD", idx, at, value)
        else
          -- No index (first time over the cap, a profile written before indexes existed, an index
          -- that expired) or one that missed values (the cap was raised meanwhile): build it from
          -- the hash. HSCAN filters by the field's prefix inside Redis, so only this field's values
          -- reach Lua.
          redis.call("DEL", idx)
          local pattern = string.gsub(prefix, "[%*%?%[%]\\\\]", "\\\\%0") .. "*"
          local skip = #prefix + 1
          local cursor = "0"
          repeat
            local page = redis.call("HSCAN", key, cursor, "MATCH", pattern, "COUNT", 1000)
            cursor = page[1]
            local all = page[2]
            local zargs = {}
            for j = 1, #all, 2 do
              zargs[#zargs + 1] = lastSeen(all[j + 1])
              zargs[#zargs + 1] = string.sub(all[j], skip)
            end
            for j = 1, #zargs, 7000 do
              redis.call("ZADD", idx, unpack(zargs, j, math.min(j + 6999, #zargs)))
            end
          until cursor == "0"
        end
        -- Scores lag behind: a value seen again keeps the score it had when indexed (so seeing a
        -- known value costs nothing here). The lowest score is therefore a lower bound; a popped
        -- value seen since goes back in at its real time, and the first popped value whose score
        -- is current is the least recently seen (equal scores by value: the same on every node).
        local held = redis.call("ZCARD", idx)
        while held > cap do
          local top = redis.call("ZPOPMIN", idx)
          local hv = prefix .. top[1]
          local stats = redis.call("HGET", key, hv)
          local last = stats and lastSeen(stats)
          if last and last > tonumber(top[2]) then
            redis.call("ZADD", idx, last, top[1])
          else
            if stats then redis.call("HDEL", key, hv) end
            held = held - 1
          end
        end
        redis.call("HSET", key, cf, held)
        expire[idx] = profileTtl
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
for _, key in ipairs(pendingKeys) do flush(key) end
for key, oldest in pairs(trim) do
  if redis.call("HLEN", key) > ${COUNTER_BUCKETS + 1} then
    for _, f in ipairs(redis.call("HKEYS", key)) do
      if tonumber(f) < oldest then redis.call("HDEL", key, f) end
    end
  end
end
for key, ttl in pairs(expire) do redis.call("PEXPIRE", key, ttl) end
return out
`,
);

export const SCRIPTS: readonly RedisScript[] = [READ, WRITE];

/**
 * The same scripts for a Redis Cluster whose primaries all run Redis 7 or later, so that the adapter
 * sends one call per node rather than one per slot (ADR 0020). A call's declared keys must share one
 * slot even so, but the script flag `allow-cross-slot-keys` lets a script reach keys of other slots
 * that the same node serves. So such a call declares one key (its first, which routes it) and passes
 * the whole key list in ARGV: `ARGV[1]` is the key count, the keys follow, then the script's own
 * arguments. The first lines rebuild `KEYS` and `ARGV` as the script proper expects them (as
 * locals: Redis 7 makes globals read-only). The flag line must come first; Redis 6 cannot compile
 * it. A key of a slot the node no longer serves (a resharding moved it, or is moving it) fails the
 * call with "non local key" when the script touches it, and Redis does not undo what the script
 * changed before that. So the next line touches every key (EXISTS, which changes nothing) before the
 * script proper runs: a call that meets a moved slot fails having changed nothing, and the adapter
 * can send it again, split by slot (`slotMoved`), without counting or claiming anything twice.
 */
const CROSS_SLOT_PREAMBLE = `#!lua flags=allow-cross-slot-keys
local nkeys = tonumber(ARGV[1])
local keys, argv = {}, {}
for i = 1, nkeys do keys[i] = ARGV[i + 1] end
for i = nkeys + 2, #ARGV do argv[#argv + 1] = ARGV[i] end
for i = 2, nkeys do redis.call("EXISTS", keys[i]) end
local KEYS, ARGV = keys, argv`;

export const CROSS_SLOT: Readonly<Record<string, RedisScript>> = Object.fromEntries(
  SCRIPTS.map((s) => [s.name, script(`${s.name}_cross_slot`, `${CROSS_SLOT_PREAMBLE}${s.source}`)]),
);
