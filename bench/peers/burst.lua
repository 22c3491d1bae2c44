-- wrk script for bench/peers (see wrk_burst.py): exactly N requests over wrk's connections, then stop.
--   wrk -t 1 -c C -d 600s --timeout 600s -s burst.lua URL -- N METHOD BODY_FILE|- AUTHORIZATION|-
-- Each connection sends its next request only while fewer than N were sent (past that, delay() parks it), so
-- with -c N every connection sends exactly one request: N at once. The wall time runs from the first request
-- written to the N-th answer read (monotonic clock through LuaJIT's FFI); then the script interrupts wrk's main
-- thread (SIGINT, as Ctrl-C would) so wrk does not sit out its -d duration. One wrk thread (-t 1): its counters
-- are the run's. done() prints one JSON line: {"requests", "answered", "wall_s", "per_s", "statuses", "errors"}.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } burst_timespec;
int clock_gettime(int clock, burst_timespec *ts);
int getpid(void);
int tgkill(int tgid, int tid, int sig);
]]
local timespec = ffi.new("burst_timespec")
local function now()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) / 1e9
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

-- Per-thread state (globals of the thread's Lua state, so done() can read them with thread:get).
total, sent, answered, started, finished = 0, 0, 0, 0, 0
statuses = {}
local prepared
local verifying = true -- wrk calls request() once after init() to check the request it returns: not sent

function init(args)
  total = tonumber(args[1]) or error("burst.lua: give N after --")
  local method, body_file, authorization = args[2] or "GET", args[3] or "-", args[4] or "-"
  local headers, body = {}, nil
  if body_file ~= "-" then
    local file = assert(io.open(body_file, "rb"))
    body = file:read("*a")
    file:close()
    headers["Content-Type"] = "application/json"
  end
  if authorization ~= "-" then headers["Authorization"] = authorization end
  prepared = wrk.format(method, nil, headers, body)
end

-- Called before each request of a connection: the slot is taken here, not in request() (wrk calls that a turn
-- of its event loop later, after other connections' delay() calls).
function delay()
  if sent >= total then return 86400000 end -- every request is out: this connection never sends again
  sent = sent + 1
  return 0
end

function request()
  if verifying then
    verifying = false
    return prepared
  end
  if started == 0 then started = now() end
  return prepared
end

function response(status, headers, body)
  answered = answered + 1
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if answered == total then
    finished = now()
    ffi.C.tgkill(ffi.C.getpid(), ffi.C.getpid(), 2) -- wrk's main thread: stop sleeping out -d
  end
end

function done(summary, latency, requests)
  local thread = threads[1]
  local n, got = thread:get("total"), thread:get("answered")
  local wall = thread:get("finished") - thread:get("started")
  local parts = {}
  for status, count in pairs(thread:get("statuses")) do table.insert(parts, string.format('"%s": %d', status, count)) end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "answered": %d, "wall_s": %.6f, "per_s": %.1f, "statuses": {%s}, "errors": ' ..
    '{"connect": %d, "read": %d, "write": %d, "timeout": %d}, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    n, got, got == n and wall or -1, got == n and n / wall or 0, table.concat(parts, ", "),
    errors.connect, errors.read, errors.write, errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
