-- wrk script: sends BENCH_BODY (if set) as a POST, and at the end prints one JSON line with the
-- request count, the duration and the latency percentiles in microseconds, for bench/run.mjs to parse.
local body = os.getenv("BENCH_BODY")
if body and #body > 0 then
  wrk.method = "POST"
  wrk.body = body
end

done = function(summary, latency, requests)
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,' ..
    '"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout))
end
