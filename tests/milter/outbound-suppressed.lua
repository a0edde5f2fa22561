-- Suppressed recipients are removed; a message left with none is refused
-- with a 5.7.1 reply that says the recipient unsubscribed.
dofile(libdir .. "/lib.lua")

local out, rc = run(ctl .. " add gone@example.com --list news")
check(rc == 0, "add: " .. out)
out, rc = run(ctl .. " add all@example.com")
check(rc == 0, "add all: " .. out)

local hdrs = { { "Subject", "x" }, { "X-Unsub-List", "news" } }
local conn = open("127.0.0.1")
message(conn, "<n@sender.example>", { "<Gone@Example.com>" }, hdrs, "x\r\n")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "want a reply code (reject)")
check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
    "recipient has unsubscribed from this list"), "want the 5.7.1 text")
mt.disconnect(conn)

-- suppressed for all lists
conn = open("127.0.0.1")
message(conn, "<n@sender.example>", { "<all@example.com>" }, hdrs, "x\r\n")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "all: want reject")
mt.disconnect(conn)

-- another list is not affected
conn = open("127.0.0.1")
message(conn, "<n@sender.example>", { "<gone@example.com>" },
    { { "Subject", "x" }, { "X-Unsub-List", "offers" } }, "x\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "other list: want accept")
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe"), "other list: no LU")
mt.disconnect(conn)

-- one of two removed, the other gets its headers
conn = open("127.0.0.1")
message(conn, "<n@sender.example>", { "<gone@example.com>", "<stay@example.com>" },
    hdrs, "x\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "mixed: want accept")
check(mt.eom_check(conn, MT_RCPTDELETE, "<gone@example.com>"), "mixed: not removed")
local lu = mt.getheader(conn, "List-Unsubscribe", 0)
check(lu ~= nil, "mixed: the remaining recipient gets List-Unsubscribe")
check(field(decode(url_token(lu)), "address") == "stay@example.com", "mixed: token")
mt.disconnect(conn)
