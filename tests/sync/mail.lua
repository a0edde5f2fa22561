-- mail.lua - one message through a host's milter, for the fleet suites:
-- mode "list" sends list mail for "news" to rcpt, "mailto" a reply to
-- rcpt shaped as Gmail sends it (the reference in the local part is all
-- there is); want: tempfail, reject, accept or discard.
dofile(libdir .. "/lib.lua")

local hdrs = { { "Subject", "x" }, { "X-Unsub-List", "news" } }
local ip = "127.0.0.1"
if mode == "mailto" then
	hdrs = { { "From", "someone@example.com" }, { "Subject", "unsubscribe" } }
	ip = "198.51.100.9"
end
local conn = open(ip)
message(conn, "<n@sender.example>", { "<" .. rcpt .. ">" }, hdrs, "x\r\n")
local r = mt.getreply(conn)
if want == "tempfail" then
	check(r == SMFIR_REPLYCODE and mt.eom_check(conn, MT_SMTPREPLY, "451",
	    "4.3.0", text), "want 451 4.3.0 " .. text)
elseif want == "reject" then
	check(r == SMFIR_REPLYCODE and mt.eom_check(conn, MT_SMTPREPLY, "550",
	    "5.7.1", "recipient has unsubscribed from this list"), "want 550")
elseif want == "accept" then
	check(r == SMFIR_ACCEPT, "want accept")
else
	check(r == SMFIR_DISCARD, "want discard")
end
mt.disconnect(conn)
