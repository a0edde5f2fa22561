-- post.lua - wrk script: RFC 8058 one-click POSTs to the URL paths listed
-- in the file given after "--" (one per line, taken in turn from a random
-- start in each thread), and the p99 latency on one line at the end.
-- "-- FILE GET" asks for the landing pages of the same URLs instead.
wrk.method = "POST"
wrk.body = "List-Unsubscribe=One-Click"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local paths, i = {}, 0

init = function(args)
	for line in io.lines(args[1]) do
		paths[#paths + 1] = line
	end
	i = math.random(#paths)
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
