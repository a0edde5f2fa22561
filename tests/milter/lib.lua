-- lib.lua - helpers for the miltertest scripts.  Globals from the driver
-- (-D): sock (milter socket), ctl (unsubctl command with -c CONF).

function fail(msg)
	error(msg, 2)
end

function check(ok, msg)
	if not ok then
		error(msg, 2)
	end
end

-- Run a shell command, return its whole output and exit status.
function run(cmd)
	local p = io.popen(cmd .. " 2>&1; echo \"rc=$?\"")
	local out = p:read("*a")
	p:close()
	local rc = tonumber(string.match(out, "rc=(%d+)\n$"))
	return string.gsub(out, "rc=%d+\n$", ""), rc
end

-- Open a connection from ip (trusted 127.0.0.1 by default), negotiated.
function open(ip)
	local conn = mt.connect(sock, 40, 0.05)
	check(conn ~= nil, "cannot connect to " .. sock)
	check(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate failed")
	check(mt.conninfo(conn, "client.example", ip or "127.0.0.1") == nil,
	    "conninfo failed")
	return conn
end

-- Send envelope and headers (a list of {name, value}) and body, up to eom.
function message(conn, from, rcpts, headers, body, macros)
	mt.macro(conn, SMFIC_MAIL, "i", "TESTQID", table.unpack(macros or {}))
	check(mt.mailfrom(conn, from) == nil, "mailfrom failed")
	for _, r in ipairs(rcpts) do
		check(mt.rcptto(conn, r) == nil, "rcptto failed")
	end
	for _, h in ipairs(headers) do
		check(mt.header(conn, h[1], h[2]) == nil, "header failed")
	end
	if not mt.test_option(conn, SMFIP_NOEOH) then
		check(mt.eoh(conn) == nil, "eoh failed")
	end
	if body then
		check(mt.bodystring(conn, body) == nil, "body failed")
	end
	check(mt.eom(conn) == nil, "eom failed")
end

-- The https token of an added List-Unsubscribe value.
function url_token(lu)
	local t = string.match(lu, "<https://unsub%.example%.com/u/([%w_-]+)>")
	check(t ~= nil, "no https URI in List-Unsubscribe: " .. tostring(lu))
	return t
end

-- Decode a token with unsubctl; returns its output.
function decode(tok)
	local out, rc = run(ctl .. " decode '" .. tok .. "'")
	check(rc == 0, "decode failed (" .. tostring(rc) .. "): " .. out)
	return out
end

function field(out, name)
	return string.match(out, name .. ":%s+([^\n]+)")
end

-- A report of tests/fixtures/reports whose returned original carries a
-- List-Unsubscribe minted now for addr, list news (nil: none at all),
-- passed through edit if given, as headers ({name, value}, folding kept)
-- and a CRLF body for message().
function report(file, addr, edit)
	local f = assert(io.open(libdir .. "/../fixtures/reports/" .. file))
	local text = f:read("*a")
	f:close()
	local lu = "X-No-Token: none"
	if addr then
		local out, rc = run(ctl .. " token " .. addr .. " --list news --campaign c7")
		check(rc == 0, "token: " .. out)
		lu = string.match(out, "(List%-Unsubscribe: .-)\nList%-Unsubscribe%-Post")
		if edit then
			lu = edit(lu)
		end
	end
	local n
	text, n = string.gsub(text, "List%-Unsubscribe: [^\n]*\n\t[^\n]*",
	    function() return lu end)
	check(n == 1 or not addr, file .. ": no List-Unsubscribe to replace")
	local head, body = string.match(text, "^(.-)\n\n(.*)$")
	local headers = {}
	for line in string.gmatch(head, "[^\n]+") do
		if string.match(line, "^[ \t]") then
			headers[#headers][2] = headers[#headers][2] .. "\r\n" .. line
		else
			local name, value = string.match(line, "^([^:]+):%s*(.*)$")
			headers[#headers + 1] = { name, value }
		end
	end
	return headers, (string.gsub(body, "\n", "\r\n"))
end

-- Send a report to mailbox and return the milter's reply.
function send_report(mailbox, file, addr)
	local headers, body = report(file, addr)
	local conn = open("198.51.100.7")
	message(conn, "<>", { "<" .. mailbox .. ">" }, headers, body)
	local reply = mt.getreply(conn)
	mt.disconnect(conn)
	return reply
end

-- The unsubctl status --json of addr.
function status(addr)
	return (run(ctl .. " status " .. addr .. " --json"))
end
