-- A trusted client's bulk mail to one recipient gets both headers, with a
-- token naming the envelope recipient and the list; markers are removed.
dofile(libdir .. "/lib.lua")

local conn = open("127.0.0.1")
message(conn, "<news@sender.example>", { "<Reader@Example.COM>" }, {
	{ "From", "News <news@sender.example>" },
	{ "To", "reader@example.com" },
	{ "Subject", "Weekly" },
	{ "X-Unsub-List", "weekly-news" },
	{ "X-Unsub-Profile", "p-42" },
	{ "X-Unsub-Campaign", "nov-2026" },
}, "hello\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "want accept")
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe"), "no List-Unsubscribe")
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe-Post",
    "List-Unsubscribe=One-Click"), "no List-Unsubscribe-Post")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Unsub-List"), "marker kept")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Unsub-Profile"), "profile kept")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Unsub-Campaign"), "campaign kept")
check(not mt.eom_check(conn, MT_HDRDELETE, "List-Unsubscribe"),
    "nothing to replace, yet a delete")

local lu = mt.getheader(conn, "List-Unsubscribe", 0)
check(string.find(lu, "^<https://") ~= nil, "https must come first: " .. lu)
check(string.find(lu, ">,\n\t<mailto:unsubscribe%+%w+@unsub%.example%.com%?subject=unsubscribe%%20%w+&body=%w+>$") ~= nil,
    "mailto second, folded after the comma: " .. lu)
check(string.find(lu, "<[^>]*%s[^>]*>") == nil, "whitespace inside <>: " .. lu)
local out = decode(url_token(lu))
check(field(out, "address") == "reader@example.com", "address: " .. out)
check(field(out, "list") == "weekly-news", "list: " .. out)
check(field(out, "profile") == "p-42", "profile: " .. out)
check(field(out, "campaign") == "nov-2026", "campaign: " .. out)
-- the mailto body token opens to the same recipient
local mtok = string.match(lu, "&body=(%w+)>")
check(field(decode(mtok), "address") == "reader@example.com", "mail token")
mt.disconnect(conn)
