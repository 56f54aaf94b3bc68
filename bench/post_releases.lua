-- wrk script for bench/commands.py: POST /releases, each with a release name of its own,
-- the body tests.support.actors.release_body(name) would give.
-- Script args (after `--`): the Authorization header, target_start, target_end, and a
-- name prefix that sets this run apart from the others on the same store.
-- done() prints one JSON line; its times are wrk's microseconds (the bench makes them ms).

local threads = {}

-- In the main Lua state, once per thread: number them, and keep them for done().
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

-- init(), request() and response() run in each thread's own Lua state (a copy of this
-- script): these locals, and the `id` that setup() gave, are the thread's own.
local request_headers, target_start, target_end, prefix

function init(args)
  request_headers = { ["Authorization"] = args[1], ["Content-Type"] = "application/json" }
  target_start, target_end, prefix = args[2], args[3], args[4]
  sent, created, others = 0, 0, 0 -- globals, for thread:get in done()
end

function request()
  sent = sent + 1
  local body = string.format(
    '{"name":"%s-%d-%d","owner":"rita","priority":"high","target_start":"%s","target_end":"%s"}',
    prefix, id, sent, target_start, target_end)
  return wrk.format("POST", "/releases", request_headers, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else others = others + 1 end
end

function done(summary, latency, requests)
  local total_created, total_others = 0, 0
  for _, thread in ipairs(threads) do
    total_created = total_created + thread:get("created")
    total_others = total_others + thread:get("others")
  end
  -- Requests that got no answer (wrk's errors.status counts answers above 399, which
  -- `others` already has). Timeouts apart: a request past wrk's timeout may still get
  -- its 201, and be counted in `created` too.
  local e = summary.errors
  io.write(string.format(
    '{"created":%d,"others":%d,"errors":%d,"timeouts":%d,"seconds":%.6f,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    total_created, total_others, e.connect + e.read + e.write, e.timeout,
    summary.duration / 1e6, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
