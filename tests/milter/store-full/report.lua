-- Run by t-report-store.sh with the store full: a hard bounce cannot be
-- recorded, so the report is refused with 4xx and the sender retries.
dofile(libdir .. "/lib.lua")

local headers, body = report("dsn-postfix-5.1.1.eml", "full@example.com")
local conn = open("198.51.100.7")
message(conn, "<>", { "<bounces@sender.example>" }, headers, body)
local reply = mt.getreply(conn)
check(reply == SMFIR_REPLYCODE or reply == SMFIR_TEMPFAIL,
    "store full: want a 4xx reply, got " .. tostring(reply))
mt.disconnect(conn)
