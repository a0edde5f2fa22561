-- Untrusted clients, and mail without the list header, pass untouched.
dofile(libdir .. "/lib.lua")

local headers = {
	{ "From", "news@sender.example" },
	{ "Subject", "Hi" },
	{ "X-Unsub-List", "news" },
}
-- not in InternalHosts, no SMTP AUTH
local conn = open("192.0.2.7")
message(conn, "<news@sender.example>", { "<a@example.com>" }, headers, "x\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "untrusted: want accept")
check(not mt.eom_check(conn, MT_HDRADD), "untrusted: header added")
check(not mt.eom_check(conn, MT_HDRDELETE), "untrusted: header deleted")
mt.disconnect(conn)

-- trusted but not bulk
conn = open("127.0.0.1")
message(conn, "<me@sender.example>", { "<a@example.com>" },
    { { "From", "me@sender.example" }, { "Subject", "Personal" } }, "x\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not bulk: want accept")
check(not mt.eom_check(conn, MT_HDRADD), "not bulk: header added")
check(not mt.eom_check(conn, MT_HDRDELETE), "not bulk: header deleted")
mt.disconnect(conn)

-- SMTP AUTH makes an outside client trusted
conn = open("192.0.2.7")
message(conn, "<news@sender.example>", { "<a@example.com>" }, headers, "x\r\n",
    { "{auth_authen}", "newsletter" })
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe"), "auth: no header")
mt.disconnect(conn)
