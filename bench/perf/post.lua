-- wrk script: POST JSON bodies and print one machine-readable summary line at the end.
--   BODY_FILE  one path, or several separated by commas (sent round robin per connection thread)
--   DELAY_MS   optional mean think time per request (uniform 0..2x), to pace a soak below saturation
-- Latencies in the summary are microseconds.

local function read(path)
  local f = assert(io.open(path, "rb"))
  local body = f:read("*a")
  f:close()
  return body
end

local bodies = {}
for path in string.gmatch(os.getenv("BODY_FILE"), "[^,]+") do
  bodies[#bodies + 1] = read(path)
end

wrk.method = "POST"
wrk.body = bodies[1]
wrk.headers["Content-Type"] = "application/json"

if #bodies > 1 then
  local next_body = 0
  request = function()
    next_body = next_body % #bodies + 1
    return wrk.format(nil, nil, nil, bodies[next_body])
  end
end

local delay_ms = tonumber(os.getenv("DELAY_MS") or "")
if delay_ms and delay_ms > 0 then
  delay = function()
    return math.random(0, math.floor(2 * delay_ms))
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"mean_us":%.1f,"max_us":%d,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
    '"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max, e.connect, e.read, e.write,
    e.status, e.timeout))
end
