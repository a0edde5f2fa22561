-- FeedbackID (here %c:%l:news:S1): list mail gets a Feedback-ID for
-- Gmail's feedback loop; the application's own is kept; plain mail none.
dofile(libdir .. "/lib.lua")

local conn = open("127.0.0.1")
message(conn, "<news@sender.example>", { "<fb1@example.com>" }, {
	{ "Subject", "Weekly" }, { "X-Unsub-List", "weekly" },
	{ "X-Unsub-Campaign", "nov" },
}, "hello\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "want accept")
check(mt.eom_check(conn, MT_HDRADD, "Feedback-ID", "nov:weekly:news:S1"),
    "no Feedback-ID nov:weekly:news:S1")

message(conn, "<news@sender.example>", { "<fb2@example.com>" }, {
	{ "Subject", "Weekly" }, { "X-Unsub-List", "weekly" },
	{ "Feedback-ID", "own:id" },
}, "hello\r\n")
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe"), "no List-Unsubscribe")
check(not mt.eom_check(conn, MT_HDRADD, "Feedback-ID"),
    "a Feedback-ID added beside the application's")
check(not mt.eom_check(conn, MT_HDRDELETE, "Feedback-ID"),
    "the application's Feedback-ID removed")

message(conn, "<someone@sender.example>", { "<fb3@example.com>" },
    { { "Subject", "Hello" } }, "hi\r\n")
check(not mt.eom_check(conn, MT_HDRADD, "Feedback-ID"),
    "a Feedback-ID on plain mail")
mt.disconnect(conn)
