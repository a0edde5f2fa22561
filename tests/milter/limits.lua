-- More recipients than POLICY_RCPT_MAX (1000): the message is tempfailed at
-- end of message (RCPT has no reply to carry it), and the next message on
-- the same connection is served normally.
dofile(libdir .. "/lib.lua")

local conn = open("127.0.0.1")
mt.macro(conn, SMFIC_MAIL, "i", "LIMITQID")
check(mt.mailfrom(conn, "<n@sender.example>") == nil, "mailfrom")
for i = 1, 1001 do
	check(mt.rcptto(conn, "<r" .. i .. "@example.com>") == nil, "rcptto " .. i)
end
check(mt.header(conn, "X-Unsub-List", "news") == nil, "header")
check(mt.eom(conn) == nil, "eom")
check(mt.getreply(conn) == SMFIR_TEMPFAIL, "1001 recipients: want tempfail")

message(conn, "<n@sender.example>", { "<ok@example.com>" },
    { { "X-Unsub-List", "news" } }, "x\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "next message: want accept")
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe"), "next message: headers")
mt.disconnect(conn)
