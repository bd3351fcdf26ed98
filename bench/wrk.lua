-- The request script bench/wrk.py hands to wrk (https://github.com/wg/wrk): every request is built from
-- files that bench/wrk.py wrote, so each flash-sale attempt carries its own single-use path token.
--
-- args: <dir> <wrap|once> <threads>
--   <dir>/heads   one request head per line, header lines joined by a TAB (no Content-Length)
--   <dir>/body    two lines: the body before and after the variable part (both empty: no body)
--   <dir>/lines   one request per line: "<head index, 0-based>\t<variable part>"
-- With "once", a thread that has used all its lines starts over and counts every later request as
-- `reused` (the caller treats that as a run too long for the tokens it made).

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local function read_lines(path)
  local out = {}
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    out[#out + 1] = line
  end
  f:close()
  return out
end

function init(args)
  local dir, mode = args[1], args[2]
  nthreads = tonumber(args[3])
  wrap = mode == "wrap"
  heads = {}
  for _, h in ipairs(read_lines(dir .. "/heads")) do
    heads[#heads + 1] = h:gsub("\t", "\r\n") .. "\r\n"
  end
  local b = read_lines(dir .. "/body")
  pre, post = b[1] or "", b[2] or ""
  -- this thread's share: lines tid, tid + nthreads, ...
  mine = {}
  local i = 0
  for line in io.lines(dir .. "/lines") do
    if i % nthreads == tid then
      local k, var = line:match("^(%d+)\t(.*)$")
      mine[#mine + 1] = { tonumber(k) + 1, var }
    end
    i = i + 1
  end
  n, reused = 0, 0
  status = {}
  samples = ""
end

function request()
  n = n + 1
  if n > #mine then
    n = 1
    if not wrap then reused = reused + #mine end
  end
  local it = mine[n]
  if pre == "" and it[2] == "" and post == "" then
    return heads[it[1]] .. "\r\n"
  end
  local body = pre .. it[2] .. post
  return heads[it[1]] .. "Content-Length: " .. #body .. "\r\n\r\n" .. body
end

function response(code, headers, body)
  -- a refusal's error code is part of the outcome (409 SOLD_OUT is the sold-out path, not a failure)
  local key = tostring(code)
  if code >= 400 and body then
    local c = body:match('"code":"([%u_]+)"')
    if c then key = key .. ":" .. c end
  end
  status[key] = (status[key] or 0) + 1
  if code >= 500 and #samples < 600 then samples = samples .. key .. " " .. body:sub(1, 150) .. " | " end
end

function done(summary, latency, requests)
  local parts = {}
  local totals = {}
  local re, smp = 0, ""
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("status")) do totals[k] = (totals[k] or 0) + v end
    re = re + t:get("reused")
    smp = smp .. t:get("samples")
  end
  for k, v in pairs(totals) do parts[#parts + 1] = string.format('"%s":%d', k, v) end
  local e = summary.errors
  io.write(string.format(
    '\nWRK-JSON {"requests":%d,"duration_us":%d,"status":{%s},"reused":%d,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"non_2xx_3xx":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f,"samples":"%s"}\n',
    summary.requests, summary.duration, table.concat(parts, ","), re,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean, smp:gsub('[\\"]', "'")))
end
