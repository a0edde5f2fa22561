-- Suppressed for all lists, then resubscribed to one (unsubctl resubscribe
-- --list, as the preference centre's kept lists): that list is delivered,
-- every other refused; unsubscribing from all again ends the exception.
dofile(libdir .. "/lib.lua")

local out, rc = run(ctl .. " add keep@example.com")
check(rc == 0, "add all: " .. out)
out, rc = run(ctl .. " resubscribe keep@example.com --list weekly --by test")
check(rc == 0, "resubscribe weekly: " .. out)

-- the kept list is delivered, with its headers
local function send(list)
	local conn = open("127.0.0.1")
	message(conn, "<n@sender.example>", { "<keep@example.com>" },
	    { { "Subject", "x" }, { "X-Unsub-List", list } }, "x\r\n")
	return conn, mt.getreply(conn)
end
local conn, r = send("weekly")
check(r == SMFIR_ACCEPT, "kept list: want accept")
check(mt.eom_check(conn, MT_HDRINSERT, "List-Unsubscribe") or
    mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe"), "kept list: want LU")
mt.disconnect(conn)

-- any other list is still refused
conn, r = send("news")
check(r == SMFIR_REPLYCODE, "other list: want reject")
check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
    "recipient has unsubscribed from this list"), "other list: 5.7.1")
mt.disconnect(conn)

-- unsubscribe from all again: the exception is gone
out, rc = run(ctl .. " add keep@example.com")
check(rc == 0, "add all again: " .. out)
conn, r = send("weekly")
check(r == SMFIR_REPLYCODE, "after all again: want reject")
mt.disconnect(conn)
