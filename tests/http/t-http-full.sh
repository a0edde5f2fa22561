#!/bin/sh
# unsub-httpd with its store full: a one-click POST gets 503 with
# Retry-After and nothing is recorded; once the store is repaired the
# retried POST is.  The failure comes back from the writer thread.
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/http/lib.sh"
http_env <<EOC
DatabaseMapSize 262144
DatabaseMapMax 262144
EOC
t=$(url_token dave@example.com --list news)
httpd_start
store_fill dave example.com news

hdrs=$(curl -s -D - -o "$T/body" -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$t")
assert_match '^HTTP/1\.1 503 ' "$hdrs" "POST while the store is full"
assert_match '^Retry-After: 60' "$(printf '%s\n' "$hdrs" | tr -d '\r')" "Retry-After"
set +e; ctl status dave@example.com >/dev/null; rc=$?; set -e
assert_eq "$rc" 1 "dave not recorded while full"
wait_log "$T/httpd.log" "unsubscribe address=dave@example.com client=127.0.0.1: store error: .*map full.*; 503"
assert_match 'unsub_http_requests_total\{outcome="store_error"\} 1' \
    "$(curl -s "$BASE/metrics")" "store_error counted"

# repair: lift the limit and restart; the sender's retry is recorded
sed -i 's/^DatabaseMapMax .*/DatabaseMapMax 0/' "$CONF"
stop "$HTTPD_PID"
httpd_start
assert_eq "$(code POST "$BASE/u/$t" -d 'List-Unsubscribe=One-Click')" 200 "retried POST"
assert_match '"suppressed":true' "$(ctl status dave@example.com --json)" "dave recorded after the retry"
echo "httpd with a full store: ok"
