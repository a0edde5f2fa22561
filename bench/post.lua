-- post.lua - wrk script: RFC 8058 one-click POSTs to the URL paths listed
-- in the file given after "--" (one per line, taken in turn, each thread
-- from the start of its own share, so that no two threads post the same
-- token: a second POST of one is a repeat, which writes nothing), and the
-- p99 latency on one line at the end.  "-- FILE GET" asks for the landing
-- pages of the same URLs instead.
wrk.method = "POST"
wrk.body = "List-Unsubscribe=One-Click"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local paths, i = {}, 0
local threads = 0

setup = function(thread)
	thread:set("id", threads)
	threads = threads + 1
end

init = function(args)
	for line in io.lines(args[1]) do
		paths[#paths + 1] = line
	end
	-- wrk -t 2: thread id 0 or 1 takes its half
	i = id * math.floor(#paths / 2)
	if args[2] == "GET" then
		wrk.method, wrk.body = "GET", nil
		wrk.headers["Content-Type"] = nil
	end
end

request = function()
	i = i % #paths + 1
	return wrk.format(nil, paths[i])
end

done = function(summary, latency, requests)
	io.write(string.format("wrk: %.0f req/s, p99 %.2f ms, errors %d, non-2xx %d\n",
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(99) / 1000,
	    summary.errors.connect + summary.errors.read + summary.errors.write +
	    summary.errors.timeout, summary.errors.status))
end
