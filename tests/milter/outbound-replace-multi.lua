-- The application's own headers are replaced, not duplicated; several
-- recipients get no headers (a token names one recipient).
dofile(libdir .. "/lib.lua")

local conn = open("127.0.0.1")
message(conn, "<news@sender.example>", { "<a@example.com>" }, {
	{ "Subject", "x" },
	{ "List-Unsubscribe", "<mailto:old@sender.example>" },
	{ "List-Unsubscribe-Post", "List-Unsubscribe=One-Click" },
	{ "X-Unsub-List", "news" },
}, "x\r\n")
check(mt.eom_check(conn, MT_HDRDELETE, "List-Unsubscribe"), "old LU kept")
check(mt.eom_check(conn, MT_HDRDELETE, "List-Unsubscribe-Post"), "old LUP kept")
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe"), "no new LU")
mt.disconnect(conn)

conn = open("127.0.0.1")
message(conn, "<news@sender.example>", { "<a@example.com>", "<b@example.com>" },
    { { "Subject", "x" }, { "X-Unsub-List", "news" } }, "x\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "multi: want accept")
check(not mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe"), "multi: LU added")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Unsub-List"), "multi: marker kept")
mt.disconnect(conn)
