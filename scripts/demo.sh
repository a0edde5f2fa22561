#!/bin/sh
# make demo: the whole loop on loopback, for a newcomer.  A private Postfix
# with unsub-milter then opendkim, and unsub-httpd; a bulk mail goes out,
# one reader unsubscribes by replying to the mailto, another with the
# one-click POST; their history; the next mailing is refused.  Everything
# it starts is stopped at the end (or on ^C).
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
. "$TOP/tests/common.sh"
. "$TOP/tests/e2e/lib.sh"
. "$TOP/tests/http/lib.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
PORT=$(free_port)
unsub_env <<EOC
UnsubscribeURL http://127.0.0.1:$PORT/u/
HTTPListen 127.0.0.1:$PORT
HTTPTemplates $TOP/conf/templates
EOC

say "Starting unsub-milter, smtp-sink, opendkim, a private Postfix and unsub-httpd (all on 127.0.0.1)"
milter_start
sink_start
opendkim_start sender.example
postfix_start "unix:$SOCK, unix:$DKIM_SOCK"
httpd_start
echo "config: $CONF"

say "1. A newsletter marked with X-Unsub-List goes to ann@ and bob@ (one message each)"
for r in ann bob; do
	send --from news@sender.example --to "$r@example.com" \
	    --header "From: Newsletter <news@sender.example>" \
	    --header "Subject: This week" --header "X-Unsub-List: weekly" \
	    --body "Hello $r, here is the news." || fail "send to $r"
done
sink_wait 2
# The relayed message for a recipient, as the sink received it.
msg_for() { e2e_relayed "$(grep -l "^X-Rcpt-Args: <$1@" $(sink_msgs) | head -n 1)"; }
echo "Headers of the message relayed for ann@example.com (signed by opendkim):"
msg_for ann | sed -n '/^List-Unsubscribe/,/^[^ \t]/p' | grep -v '^[A-KM-Z]' |
    sed 's/^/    /'
msg_for ann | tr -d '\r\n\t ' | grep -o '[;:]h=[^;]*' | sed 's/^./    DKIM-Signature: ... /'
ann_mailto=$(msg_for ann | sed -n 's/^[ \t]*<mailto:\([^?>]*\)?.*/\1/p')
bob_url=$(msg_for bob | sed -n 's#^List-Unsubscribe: <\(http[^>]*\)>,$#\1#p')
[ -n "$ann_mailto" ] && [ -n "$bob_url" ] || fail "no List-Unsubscribe in the relayed mail"

say "2. Ann's mail client answers the mailto ($ann_mailto)"
send --from ann@example.com --to "$ann_mailto" --header "Subject: unsubscribe" \
    --body "This message was automatically generated." || fail "reply"
last_reply

say "3. Bob's provider sends the RFC 8058 one-click POST to $bob_url"
curl -s -o /dev/null -w '    HTTP %{http_code}\n' -d List-Unsubscribe=One-Click "$bob_url"

say "4. unsubctl history for both"
for r in ann bob; do
	echo "  $r@example.com:"
	ctl history "$r@example.com" | sed 's/^/    /'
done

say "5. The next newsletter to them is refused"
for r in ann bob; do
	send --from news@sender.example --to "$r@example.com" \
	    --header "X-Unsub-List: weekly" --body "More news" || true
	echo "  $r: $(last_reply)"
done

say "Stopping everything"
