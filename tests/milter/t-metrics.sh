#!/bin/sh
# unsub-milter's MetricsListen: -n checks the address; /metrics counts
# exactly the messages metrics.lua sends through the real daemon.
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/http/lib.sh"
PORT=$(free_port)
unsub_env <<EOC
MetricsListen 127.0.0.1:$PORT
EOC
assert_eq "$("$B/unsub-milter" -n -c "$CONF")" "configuration OK" "-n"
sed "s/^MetricsListen .*/MetricsListen 127.0.0.1/" "$CONF" >"$T/bad.conf"
set +e; "$B/unsub-milter" -n -c "$T/bad.conf" >"$T/o" 2>&1; rc=$?; set -e
assert_eq "$rc" 1 "-n with MetricsListen without a port"
assert_match 'MetricsListen "127.0.0.1": want address:port' "$(cat "$T/o")" "-n says why"
milter_start
M="http://127.0.0.1:$PORT"
m=$(curl -sf "$M/metrics") || fail "GET /metrics failed"
assert_match '^unsub_milter_messages_total\{role="outbound",outcome="accepted"\} 0$' "$m" "zero at start"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$M/other")" 404 "another path"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$M/metrics")" 405 "POST"

miltertest -D sock="unix:$SOCK" -D libdir="$TOP/tests/milter" \
    -D ctl="$B/unsubctl -c $CONF" -D script="$TOP/tests/milter/metrics.lua" \
    -s "$TOP/tests/milter/wrap.lua" >"$T/lua.out" 2>&1 ||
    fail "metrics.lua: $(cat "$T/lua.out")"
m=$(curl -sf "$M/metrics")
has() { assert_match "^$1 $2\$" "$m" "$1"; }
has 'unsub_milter_messages_total\{role="outbound",outcome="accepted"\}' 1
has 'unsub_milter_messages_total\{role="outbound",outcome="rejected"\}' 1
has 'unsub_milter_messages_total\{role="none",outcome="accepted"\}' 1
has 'unsub_milter_messages_total\{role="inbound",outcome="discarded"\}' 1
has 'unsub_milter_messages_total\{role="inbound",outcome="accepted"\}' 1
has 'unsub_milter_messages_total\{role="inbound",outcome="tempfailed"\}' 0
has unsub_milter_headers_added_total 1
has unsub_milter_recipients_suppressed_total 1
has unsub_milter_tokens_refused_total 1
has unsub_milter_store_errors_total 0
has 'unsub_milter_unsubscribes_total\{source="mailto"\}' 1
has 'unsub_milter_store_commit_seconds_bucket\{le="\+Inf"\}' 1
has unsub_milter_store_commit_seconds_count 1
assert_match '^unsub_milter_store_commit_seconds_sum [0-9]+\.[0-9]{9}$' "$m" "commit time sum"
# conf/grafana-unsub.json queries only what the milter exports.
for n in $(grep -o 'unsub_milter_[a-z_]*' "$TOP/conf/grafana-unsub.json" | sort -u); do
	assert_match "^$n[{ ]" "$m" "the dashboard's $n"
done
echo "unsub-milter metrics: ok"
