-- More recipients than POLICY_RCPT_MAX (1000): mail that is not list mail
-- (cron through non_smtpd_milters) passes untouched; list mail, whose
-- recipients past the cap cannot all be checked for unsubscribes, is
-- refused for good (554 5.5.3), never tempfailed into a queue it cannot
-- leave.  The next message on the same connection is served normally.
dofile(libdir .. "/lib.lua")

-- Send 1001 recipients and the headers, up to eom.
local function many(conn, hdrs)
	mt.macro(conn, SMFIC_MAIL, "i", "LIMITQID")
	check(mt.mailfrom(conn, "<n@sender.example>") == nil, "mailfrom")
	for i = 1, 1001 do
		check(mt.rcptto(conn, "<r" .. i .. "@example.com>") == nil,
		    "rcptto " .. i)
	end
	for _, h in ipairs(hdrs) do
		check(mt.header(conn, h[1], h[2]) == nil, "header")
	end
	check(mt.eom(conn) == nil, "eom")
end

local conn = open("127.0.0.1")
many(conn, { { "Subject", "cron" } })
check(mt.getreply(conn) == SMFIR_ACCEPT, "plain, 1001 recipients: want accept")
check(not mt.eom_check(conn, MT_HDRADD) and not mt.eom_check(conn, MT_HDRDELETE)
    and not mt.eom_check(conn, MT_RCPTDELETE, "<r1001@example.com>"),
    "plain: want no edits")

many(conn, { { "Subject", "x" }, { "X-Unsub-List", "news" } })
check(mt.getreply(conn) == SMFIR_REPLYCODE, "list, 1001 recipients: want reject")
check(mt.eom_check(conn, MT_SMTPREPLY, "554", "5.5.3",
    "too many recipients for list mail; send one message per recipient"),
    "list: want the 5.5.3 text")

message(conn, "<n@sender.example>", { "<ok@example.com>" },
    { { "X-Unsub-List", "news" } }, "x\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "next message: want accept")
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe"), "next message: headers")
mt.disconnect(conn)
