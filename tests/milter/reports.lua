-- Bounces and complaints (SPEC "Bounces and complaints"), one row each:
-- Postfix's real DSNs and the RFC 5965 ARF shapes, their returned original
-- carrying a token minted by this daemon's key.  Recorded reports are
-- consumed; the rest pass on untouched.  SoftBounceLimit is 2 here.
dofile(libdir .. "/lib.lua")

local B, C = "bounces@sender.example", "fbl@sender.example"

-- a row: mailbox, fixture, token's address, wanted reply, wanted status
-- (a pattern of status --json, or nil: not suppressed), history pattern
local rows = {
	{ B, "dsn-postfix-5.1.1.eml", "hard@example.com", SMFIR_DISCARD,
	  '"scopes":%["%*"%]', '"source":"bounce".-status=5%.1%.1 mta=mta%.test%.example list=news campaign=c7 diagnostic=550 5%.1%.1' },
	{ B, "dsn-postfix-4.2.2-expired.eml", "soft@example.com", SMFIR_DISCARD,
	  nil, nil },	-- the first soft bounce: counted
	{ B, "dsn-postfix-5.2.2.eml", "soft@example.com", SMFIR_DISCARD,
	  '"scopes":%["%*"%]', '"source":"soft%-bounce".-status=5%.2%.2' },
	{ B, "dsn-postfix-delayed.eml", "slow@example.com", SMFIR_ACCEPT,
	  nil, nil },
	{ B, "dsn-postfix-5.7.1.eml", "policy@example.com", SMFIR_ACCEPT,
	  nil, nil },
	{ C, "arf-abuse.eml", "abuse@example.com", SMFIR_DISCARD,
	  '"scopes":%["%*"%]', '"source":"complaint".-feedback=abuse reporter=mail%.example%.com' },
	{ C, "arf-headers-redacted.eml", "fbl@example.com", SMFIR_DISCARD,
	  '"scopes":%["%*"%]', '"source":"complaint"' },
	{ C, "arf-not-spam.eml", "notspam@example.com", SMFIR_ACCEPT, nil, nil },
	-- a report to the bounce mailbox is read whatever its kind
	{ B, "arf-abuse.eml", "both@example.com", SMFIR_DISCARD,
	  '"scopes":%["%*"%]', '"source":"complaint"' },
}

for i, r in ipairs(rows) do
	local reply = send_report(r[1], r[2], r[3])
	check(reply == r[4], string.format("row %d %s: reply got %s, want %s",
	    i, r[2], tostring(reply), tostring(r[4])))
	local st = status(r[3])
	if r[5] then
		check(string.find(st, r[5]) ~= nil, string.format(
		    "row %d %s: status %s, want /%s/", i, r[2], st, r[5]))
		local h = run(ctl .. " history " .. r[3] .. " --json")
		check(string.find(h, r[6]) ~= nil, string.format(
		    "row %d %s: history %s, want /%s/", i, r[2], h, r[6]))
	else
		check(string.find(st, '"suppressed":false') ~= nil, string.format(
		    "row %d %s: got %s, want not suppressed", i, r[2], st))
	end
end

-- forged: the report names gone@example.com everywhere (Final-Recipient,
-- Original-Recipient, To:) but carries no token: passed on, nothing kept
check(send_report(B, "dsn-postfix-5.1.1.eml", nil) == SMFIR_ACCEPT,
    "forged report without token: want accept")
-- (outbound-suppressed.lua suppresses gone@ by hand: look at the sources)
check(string.find(run(ctl .. " history gone@example.com"), "bounce") == nil,
    "a report without token suppressed the address it names")
-- RFC 5965 B.1 as printed: someone else's mail, passed on
check(send_report(C, "arf-rfc5965-b1.eml", nil) == SMFIR_ACCEPT,
    "RFC 5965 B.1: want accept")

-- only the mailto's reference survives (no https URI, no subject or
-- body): the reference names the recipient
local headers, body = report("dsn-postfix-5.1.1.eml", "refonly@example.com",
    function(lu)
	return "List-Unsubscribe: " .. string.match(lu, "(<mailto:[^?]+)") .. ">"
    end)
local conn = open("198.51.100.7")
message(conn, "<>", { "<" .. B .. ">" }, headers, body)
check(mt.getreply(conn) == SMFIR_DISCARD, "reference only: want discard")
mt.disconnect(conn)
check(string.find(status("refonly@example.com"), '"scopes":%["%*"%]') ~= nil,
    "reference only: not suppressed")

-- plain mail to the bounce mailbox (an out-of-office reply): untouched
conn = open("198.51.100.7")
message(conn, "<ooo@example.net>", { "<" .. B .. ">" },
    { { "Subject", "Out of office" } }, "Back on Monday.\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "plain mail: want accept")
mt.disconnect(conn)
