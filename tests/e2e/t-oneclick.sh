#!/bin/sh
# One-click end to end over HTTPS: a bulk message relayed by the private
# Postfix carries an https List-Unsubscribe; POSTing to that very URL (as
# Gmail would, with List-Unsubscribe=One-Click) at unsub-httpd serving
# HTTPS itself with a self-signed test certificate records the unsubscribe.
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/e2e/lib.sh"
. "$TOP/tests/http/lib.sh"
PORT=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=unsub.example.com \
    -addext subjectAltName=DNS:unsub.example.com \
    -keyout "$T/tls.key" -out "$T/tls.crt" 2>/dev/null || fail "openssl req"
unsub_env <<EOC
UnsubscribeURL https://unsub.example.com:$PORT/u/
HTTPListen 127.0.0.1:$PORT
HTTPTemplates $TOP/conf/templates
HTTPCertificate $T/tls.crt
HTTPKey $T/tls.key
EOC
milter_start
sink_start
postfix_start "unix:$SOCK"
httpd_start https
RESOLVE="--resolve unsub.example.com:$PORT:127.0.0.1 --cacert $T/tls.crt"

send --from news@sender.example --to dora@example.com \
    --header "X-Unsub-List: news" --body "news" || fail "bulk send"
sink_wait 1
url=$(sed -n 's#^List-Unsubscribe: <\(https://[^>]*\)>,$#\1#p' "$(sink_msgs | tail -n 1)")
assert_match "^https://unsub\.example\.com:$PORT/u/[A-Za-z0-9_-]+$" "$url" "https URI first"
# GET (a link scanner) writes nothing, over verified TLS
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' $RESOLVE "$url")" 200 "GET over HTTPS"
if ctl status dora@example.com >/dev/null; then fail "GET recorded"; fi
# plain HTTP to the TLS port is refused
if curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz"; then fail "plain HTTP answered"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' $RESOLVE \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    --data 'List-Unsubscribe=One-Click' "$url")
assert_eq "$code" 200 "one-click POST over HTTPS"
assert_match '"suppressed":true' "$(ctl status dora@example.com --json)" "recorded"
# and the next bulk message to dora is refused
if send --from news@sender.example --to dora@example.com \
    --header "X-Unsub-List: news" --body "again"; then
	fail "bulk mail after one-click accepted"
fi
assert_match "550 5\.7\.1 " "$(cat "$T/swaks.out")" "refusal after one-click"
echo "one-click over HTTPS end to end: ok"
