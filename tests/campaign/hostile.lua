-- hostile.lua - list ids, campaigns and profiles built to inject headers
-- or break the token, sent by a trusted client (tests/campaign/hostile.sh).
-- Whatever the milter does with each, an added header carries no CR, LF
-- or NUL outside its folding, and its token opens to what was sent or
-- nothing is added.  Prints "tried N".
dofile(libdir .. "/lib.lua")

local bad = {
	"news\r\nBcc: victim@example.com", "news\nX-Injected: 1", "news\r",
	"news\0evil", "<news>", "news>, <https://evil.example/", "news,weekly",
	" news ", "\t", "", string.rep("n", 65), string.rep("n", 1000),
	"n\194\160ws", "\255\254", "*", "news%0d%0aBcc:x", "news?subject=x",
	"news\"quoted\"", "news;x", "=?utf-8?q?news?=", "news\r\n\r\nbody",
}
local tried = 0
for _, v in ipairs(bad) do
	for _, name in ipairs({ "X-Unsub-List", "X-Unsub-Campaign",
	    "X-Unsub-Profile" }) do
		local hs = { { "From", "news@sender.example" },
		    { "Subject", "hostile" } }
		if name ~= "X-Unsub-List" then
			table.insert(hs, { "X-Unsub-List", "news" })
		end
		table.insert(hs, { name, v })
		local conn = open("127.0.0.1")
		message(conn, "<news@sender.example>", { "<r@example.com>" },
		    hs, "hi\r\n")
		tried = tried + 1
		local lu = mt.getheader(conn, "List-Unsubscribe", 0)
		if lu ~= nil then
			check(string.find(lu, "[\r\0]") == nil and
			    string.find(lu, "\n[^\t]") == nil,
			    name .. " " .. string.format("%q", v) ..
			    " broke the header: " .. string.format("%q", lu))
			-- miltertest sends a C string (up to a NUL); the
			-- milter trims the value as a header's
			local want = string.match(string.match(v, "^([^\0]*)"),
			    "^%s*(.-)%s*$")
			local out = decode(url_token(lu))
			check(name ~= "X-Unsub-List" or
			    field(out, "list") == want, string.format(
			    "list id %q became: %s", v, out))
		end
		mt.disconnect(conn)
	end
end
print("tried " .. tried)
