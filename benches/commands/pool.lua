-- wrk script: POST a pool of distinct pre-signed Slack slash commands (gen.py).
--
--   wrk -t2 -c64 -d10s --latency -s pool.lua http://127.0.0.1:PORT/slack/commands -- POOL_FILE 2
--
-- (the last argument is the number of threads, -t)
--
-- Thread k of T sends requests k, k+T, k+2T, ... so no two requests in a run
-- share a trigger_id while the pool lasts; past its end it wraps and counts
-- the repeats (a server that drops retries then answers them without storing).
-- Each answer is counted as ok when it is a 2xx whose body holds the pool's
-- success substring. `done` prints one line for benches/run.sh to read:
--   RESULT requests=N ok=N bad=N wrapped=N rps=F p50_ms=F p99_ms=F errors=N

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
  parts = {}
  local from = 1
  while true do
    local s, e = string.find(body, "QQNQQ", from, true)
    if not s then break end
    table.insert(parts, string.sub(body, from, s - 1))
    from = e + 1
  end
  table.insert(parts, string.sub(body, from))
  sigs = {}
  for line in f:lines() do
    sigs[#sigs + 1] = "v0=" .. line
  end
  f:close()
  assert(#sigs > 0, "the pool is empty")
  stride = tonumber(args[2] or "1")
  nth = id
  ok, bad, wrapped = 0, 0, 0
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
  headers["X-Slack-Signature"] = sigs[n + 1]
  return wrk.format("POST", nil, headers, table.concat(parts, s))
end

function response(status, _, body)
  if status >= 200 and status < 300 and body and string.find(body, ok_text, 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
    if not first_bad then
      first_bad = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, _)
  local o, b, w = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    b = b + t:get("bad")
    w = w + t:get("wrapped")
    local fb = t:get("first_bad")
    if fb then io.write("FIRST_BAD " .. fb .. "\n") end
  end
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    "RESULT requests=%d ok=%d bad=%d wrapped=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    summary.requests, o, b, w, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
end
