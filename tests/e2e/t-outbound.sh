#!/bin/sh
# Outbound end to end: swaks -> private Postfix -> unsub-milter -> opendkim
# -> smtp-sink.  The relayed bulk message carries each header once, the
# DKIM signature covers both and verifies offline; a suppressed recipient's
# bulk mail is refused with the 5.7.1 text; other mail passes untouched.
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/e2e/lib.sh"
unsub_env </dev/null
milter_start
sink_start
opendkim_start sender.example
postfix_start "unix:$SOCK, unix:$DKIM_SOCK"

# The message as relayed: the sink's dump without its envelope lines.
relayed() { grep -v -E '^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args):' "$1"; }

send --from news@sender.example --to Reader@Example.com \
    --header "From: News <news@sender.example>" --header "Subject: Weekly" \
    --header "X-Unsub-List: weekly" --header "X-Unsub-Campaign: nov" \
    --body "Hello reader" || fail "bulk send: $(cat "$T/swaks.out")"
sink_wait 1
relayed "$(sink_msgs | tail -n 1)" >"$T/bulk.eml"
assert_eq "$(grep -ci '^List-Unsubscribe:' "$T/bulk.eml")" 1 "List-Unsubscribe count"
assert_eq "$(grep -ci '^List-Unsubscribe-Post: List-Unsubscribe=One-Click' "$T/bulk.eml")" 1 "List-Unsubscribe-Post count"
assert_eq "$(grep -ci '^X-Unsub-' "$T/bulk.eml")" 0 "marker headers left"
h=$(dkim_verify "$T/bulk.eml") || fail "DKIM does not verify: $h"
assert_match "(^|:)list-unsubscribe(:|$)" "$(echo "$h" | tr 'A-Z' 'a-z')" "h= covers List-Unsubscribe"
assert_match "(^|:)list-unsubscribe-post(:|$)" "$(echo "$h" | tr 'A-Z' 'a-z')" "h= covers List-Unsubscribe-Post"
tok=$(sed -n 's#^List-Unsubscribe: <https://unsub.example.com/u/\([A-Za-z0-9_-]*\)>,$#\1#p' "$T/bulk.eml")
[ -n "$tok" ] || fail "no folded https-first List-Unsubscribe in: $(grep -A1 -i '^List-Unsubscribe:' "$T/bulk.eml")"
assert_match "^address: +reader@example.com$" "$(ctl decode "$tok" | grep address)" "token address"
assert_match "^list: +weekly$" "$(ctl decode "$tok" | grep list)" "token list"

# A tampered List-Unsubscribe-Post must break the signature (oversigned).
sed 's/^List-Unsubscribe-Post: .*/List-Unsubscribe-Post: List-Unsubscribe=Other/' "$T/bulk.eml" >"$T/tampered.eml"
if dkim_verify "$T/tampered.eml" >/dev/null; then fail "tampered List-Unsubscribe-Post still verifies"; fi
# ... and so must a second List-Unsubscribe added after signing.
awk '/^List-Unsubscribe:/ && !done { print "List-Unsubscribe: <mailto:evil@example.net>"; done=1 } { print }' \
    "$T/bulk.eml" >"$T/added.eml"
if dkim_verify "$T/added.eml" >/dev/null; then fail "an added List-Unsubscribe still verifies"; fi

# Non-bulk mail passes untouched: same headers we sent, same body.
send --from me@sender.example --to friend@example.com --header "Subject: Lunch" \
    --header "X-Custom: kept as is" --body "See you at noon" || fail "plain send"
sink_wait 2
relayed "$(sink_msgs | tail -n 1)" >"$T/plain.eml"
assert_eq "$(grep -ci '^List-Unsubscribe' "$T/plain.eml")" 0 "plain mail got List-Unsubscribe"
assert_eq "$(grep '^X-Custom:' "$T/plain.eml")" "X-Custom: kept as is" "plain header"
assert_eq "$(sed '1,/^$/d' "$T/plain.eml" | head -n 1)" "See you at noon" "plain body"

# A suppressed recipient's bulk mail is refused with the 5.7.1 text.
ctl add gone@example.com --list weekly >/dev/null
if send --from news@sender.example --to gone@example.com \
    --header "X-Unsub-List: weekly" --body "x"; then
	fail "bulk mail to a suppressed recipient was accepted"
fi
assert_match "550 5\.7\.1 recipient has unsubscribed from this list" "$(cat "$T/swaks.out")" "refusal text"
grep -q "every recipient unsubscribed (gone@example.com): rejected" "$T/milter.log" ||
	fail "refusal not logged: $(cat "$T/milter.log")"
assert_eq "$(ls "$T/sink" | wc -l)" 2 "nothing more relayed"
echo "outbound end to end: ok"
