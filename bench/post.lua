-- post.lua - wrk script: RFC 8058 one-click POSTs of the token in the
-- URL given to wrk, and the p99 latency on one line at the end.
wrk.method = "POST"
wrk.body = "List-Unsubscribe=One-Click"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

done = function(summary, latency, requests)
	io.write(string.format("wrk: %.0f req/s, p99 %.2f ms, errors %d, non-2xx %d\n",
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(99) / 1000,
	    summary.errors.connect + summary.errors.read + summary.errors.write +
	    summary.errors.timeout, summary.errors.status))
end
