-- wrk script of benchmarks/load_sweep.py: the request's headers from the environment, and
-- one JSON line at the end with the counts, errors and latency percentiles (microseconds).
local key = os.getenv("BENCH_KEY")
local workspace = os.getenv("BENCH_WORKSPACE")
if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.headers["X-Workspace-ID"] = workspace
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
