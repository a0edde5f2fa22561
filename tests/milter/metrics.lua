-- One message of each kind the milter counts (t-metrics.sh checks the
-- counts on /metrics): headers added, a suppressed recipient rejected,
-- plain mail, an unsubscribe recorded, a forged token refused.
dofile(libdir .. "/lib.lua")

local out, rc = run(ctl .. " add metrics-gone@example.com --list news")
check(rc == 0, "add: " .. out)
local hdrs = { { "Subject", "x" }, { "X-Unsub-List", "news" } }

-- outbound: headers added
local conn = open("127.0.0.1")
message(conn, "<n@sender.example>", { "<metrics-in@example.com>" }, hdrs, "x\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "outbound: want accept")
local lu = mt.getheader(conn, "List-Unsubscribe", 0)
check(lu ~= nil, "outbound: no List-Unsubscribe")
mt.disconnect(conn)

-- outbound: the one recipient unsubscribed, rejected
conn = open("127.0.0.1")
message(conn, "<n@sender.example>", { "<metrics-gone@example.com>" }, hdrs, "x\r\n")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "suppressed: want reject")
mt.disconnect(conn)

-- plain mail from outside: neither role
conn = open("198.51.100.9")
message(conn, "<a@example.net>", { "<b@example.org>" }, { { "Subject", "hi" } }, "x\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "plain: want accept")
mt.disconnect(conn)

-- inbound: the reply to the mailto above, recorded and discarded
local rcpt = string.match(lu, "<mailto:([^?>]+)")
conn = open("198.51.100.9")
message(conn, "<metrics-in@example.com>", { "<" .. rcpt .. ">" },
    { { "Subject", "unsubscribe" } }, "x\r\n")
check(mt.getreply(conn) == SMFIR_DISCARD, "inbound: want discard")
mt.disconnect(conn)

-- inbound: a forged token, refused and passed on for a human
local tok = string.match(lu, "&body=(%w+)")
local forged = string.sub(tok, 1, 30) .. (string.sub(tok, 31, 31) == "a" and "b" or "a") .. string.sub(tok, 32)
conn = open("198.51.100.9")
message(conn, "<x@example.net>", { "<unsubscribe@unsub.example.com>" },
    { { "Subject", "unsubscribe " .. forged } }, forged .. "\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "forged: want accept")
mt.disconnect(conn)
