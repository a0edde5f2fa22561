-- damaged.lua - for t-store.sh: with data.mdb truncated under it, the
-- milter tempfails an outbound list message (it does not die).
dofile(libdir .. "/lib.lua")

local conn = open("127.0.0.1")
message(conn, "<n@sender.example>", { "<r@example.com>" },
    { { "Subject", "x" }, { "X-Unsub-List", "news" } }, "x\r\n")
local r = mt.getreply(conn)
-- a 4xx reply code (t-store.sh reads "tempfail" in the log)
check(r == SMFIR_TEMPFAIL or r == SMFIR_REPLYCODE, "want a tempfail, got " ..
    tostring(r))
mt.disconnect(conn)
