-- wrk script: POST a pool of distinct pre-signed Slack slash commands (gen.py).
--
--   wrk -t2 -c64 -d10s --latency -s pool.lua http://127.0.0.1:PORT/slack/commands -- POOL_FILE 2
--
-- (the last argument is the number of threads, -t)
--
-- Request N shows id 1 + (N * 7919) % COUNT where its body holds QQIQQ
-- (gen.py's request_id; line 4 of the pool is `ids COUNT`).
--
-- Thread k of T sends requests k, k+T, k+2T, ... so no two requests in a run
-- share a trigger_id while the pool lasts; past its end it wraps and counts
-- the repeats (a server that drops retries then answers them without storing).
-- Each answer is counted as ok when it is a 2xx whose body holds the pool's
-- success substring. `done` prints one line for benches/run.sh to read:
--   RESULT requests=N ok=N bad=N late=N wrapped=N rps=F p50_ms=F p99_ms=F errors=N
-- (`late`: the bad answers that were Quorum's "Working on it…", sent when a
-- command takes over 2.5 s; they are counted in `bad` too).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "r"), "cannot open the pool file")
  local ts = f:read("*l")
  local body = f:read("*l")
  ok_text = f:read("*l")
  local ids_line = f:read("*l")
  id_count = tonumber(string.match(ids_line or "", "^ids (%d+)$"))
  assert(id_count, "line 4 of the pool file must be `ids COUNT` (gen.py writes it)")
  -- The body split at its marks: strings, and true (the request's index) or
  -- false (the id it shows, gen.py's request_id) where the marks were.
  pieces = {}
  local from = 1
  while true do
    local sn, en = string.find(body, "QQNQQ", from, true)
    local si, ei = string.find(body, "QQIQQ", from, true)
    local s, e, mark = sn, en, true
    if si and (not sn or si < sn) then s, e, mark = si, ei, false end
    if not s then break end
    table.insert(pieces, string.sub(body, from, s - 1))
    table.insert(pieces, mark)
    from = e + 1
  end
  table.insert(pieces, string.sub(body, from))
  assert(id_count > 0 or not string.find(body, "QQIQQ", 1, true), "the body asks for an id but ids is 0")
  sigs = {}
  for line in f:lines() do
    sigs[#sigs + 1] = "v0=" .. line
  end
  f:close()
  assert(#sigs > 0, "the pool is empty")
  stride = tonumber(args[2] or "1")
  nth = id
  ok, bad, wrapped, late = 0, 0, 0, 0
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Slack-Request-Timestamp"] = ts,
  }
end

function request()
  local n = nth % #sigs
  if nth >= #sigs then wrapped = wrapped + 1 end
  nth = nth + stride
  local s = tostring(n)
  local id = id_count > 0 and string.format("%d", 1 + (n * 7919) % id_count) or ""
  local out = {}
  for k, p in ipairs(pieces) do
    if p == true then out[k] = s elseif p == false then out[k] = id else out[k] = p end
  end
  headers["X-Slack-Signature"] = sigs[n + 1]
  return wrk.format("POST", nil, headers, table.concat(out))
end

function response(status, _, body)
  if status >= 200 and status < 300 and body and string.find(body, ok_text, 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
    -- Quorum's answer when a command takes over 2.5 s: measured, not broken.
    if body and string.find(body, "Working on it", 1, true) then late = late + 1 end
    if not first_bad then
      first_bad = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, _)
  local o, b, w, l = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    b = b + t:get("bad")
    w = w + t:get("wrapped")
    l = l + t:get("late")
    local fb = t:get("first_bad")
    if fb then io.write("FIRST_BAD " .. fb .. "\n") end
  end
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    "RESULT requests=%d ok=%d bad=%d late=%d wrapped=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    summary.requests, o, b, l, w, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
end
