-- The wrk script of bench/commands.py (bench/wrk.py runs it): POST a JSON body with a
-- bearer token, count the answers by status code, and print the figures as one line of
-- JSON that the bench parses. Configured by the environment:
--   BENCH_BODY   the JSON body of each command
--   BENCH_TOKEN  the bearer token (none sent when empty)
--   BENCH_MIX    "raise" (default): every request POSTs the body to the URL's path;
--                "raise-refer": a raised concern's id (from the 201 answer) is referred by a
--                later request, POST <path>/<id>/refer with {}, so half the commands refer.

local mix = os.getenv("BENCH_MIX") or "raise"
local token = os.getenv("BENCH_TOKEN") or ""

wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or "{}"
wrk.headers["Content-Type"] = "application/json"
if token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

-- Each wrk thread has its own Lua state: these globals are per thread, and done() (in the
-- main state) reads them through thread:get.
statuses = {} -- status code (as text) -> answers
sample = nil -- the first answer that was not 2xx: status and the start of its body
referable = {} -- ids of raised concerns not referred yet (raise-refer)

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status < 200 or status > 299 then
    if sample == nil then
      sample = key .. " " .. string.sub(body or "", 1, 300):gsub("%s+", " ")
    end
  elseif mix == "raise-refer" and status == 201 then
    local id = string.match(body or "", '"id"%s*:%s*"([%x%-]+)"')
    if id then
      table.insert(referable, id)
    end
  end
end

if mix == "raise-refer" then
  -- Defining request() makes wrk build each request here instead of reusing one.
  function request()
    local id = table.remove(referable)
    if id then
      local headers = {}
      for k, v in pairs(wrk.headers) do
        headers[k] = v
      end
      return wrk.format("POST", wrk.path .. "/" .. id .. "/refer", headers, "{}")
    end
    return wrk.format()
  end
end

function done(summary, latency, requests)
  local totals = {}
  local first = nil
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("statuses") or {}) do
      totals[key] = (totals[key] or 0) + n
    end
    first = first or thread:get("sample")
  end
  local counts = {}
  for key, n in pairs(totals) do
    table.insert(counts, string.format('"%s": %d', key, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "p50_us": %.1f, "p99_us": %.1f, '
      .. '"max_us": %.1f, "statuses": {%s}, "connect": %d, "read": %d, "write": %d, '
      .. '"timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, table.concat(counts, ", "), e.connect, e.read, e.write, e.timeout
  ))
  if first then
    io.write("BENCH-SAMPLE " .. first .. "\n")
  end
end
