#!/bin/sh
# unsub-sync's webhooks without PostgreSQL, to tests/sync/receiver.py
# (which verifies every signature): -n and the secret file's mode; every
# event in order; 500, 404, a hang and a wrong secret answered by retries;
# the receiver down and up again; kill -9 mid-delivery loses nothing;
# the metrics; SIGTERM while a POST hangs.
. "$(dirname "$0")/../common.sh"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HPORT=$(port)
MPORT=$(port)
printf 's3cret-for-the-hooks\nsecond line ignored\n' >"$T/secret"
chmod 0600 "$T/secret"
unsub_env <<EOC
WebhookURL http://127.0.0.1:$HPORT/hook
WebhookSecretFile $T/secret
WebhookTimeout 1s
SyncMetricsListen 127.0.0.1:$MPORT
EOC
R="$T/recv.log"
echo ok >"$T/mode"
echo "$HPORT" >"$T/rport"
: >"$R"

recv_start() {
	python3 "$TOP/tests/sync/receiver.py" "$T/rport" "$T/secret" "$R" "$T/mode" \
	    2>>"$T/recv.err" &
	RPID=$!
	PIDS="$PIDS $RPID"
}
sync_start() {
	"$B/unsub-sync" -f -c "$CONF" >>"$T/sync.log" 2>&1 &
	SPID=$!
	PIDS="$PIDS $SPID"
}
# Ids answered 2xx, first sightings in order, and all the feed's ids.
got() { awk '$1 == "ok" && !seen[$2]++ { print $2 }' "$R"; }
ids() { ctl events --json | sed 's/{"id":\([0-9]*\),.*/\1/'; }
all_in_order() { [ "$(got | tr '\n' ' ')" = "$(ids | tr '\n' ' ')" ]; }
seen() { [ "$(grep -c "^$1 " "$R")" -ge "$2" ]; }
metric() { curl -sf "http://127.0.0.1:$MPORT/metrics" | sed -n "s/^$1 //p"; }
add() { for a in "$@"; do ctl add "$a" --list news >/dev/null; done; }

# -n: good; the secret open to others, missing, empty; nothing to do.
assert_match "configuration OK" "$(within 30 "$B/unsub-sync" -n -c "$CONF")" "-n good"
chmod 0640 "$T/secret"
set +e
out=$(within 30 "$B/unsub-sync" -n -c "$CONF" 2>&1); rc=$?
set -e
assert_eq "$rc" 1 "-n with the secret mode 0640"
assert_match "secret: mode 0640 is open to group or others" "$out" "-n says why"
set +e
out=$(within 30 "$B/unsub-sync" -f -c "$CONF" 2>&1); rc=$?
set -e
assert_eq "$rc" 1 "unsub-sync refuses to start with the secret mode 0640"
chmod 0600 "$T/secret"
install -m 0600 /dev/null "$T/empty"
for bad in "WebhookSecretFile $T/nosuch|No such file" \
    "WebhookSecretFile $T/empty|is empty" \
    "WebhookURL ftp://x/|want an http:// or https:// URL" \
    "WebhookURL|neither SyncDatabase nor WebhookURL is set"; do
	line=${bad%%|*}
	grep -v "^${line%% *} " "$CONF" >"$T/bad.conf"
	case $line in *" "*) echo "$line" >>"$T/bad.conf" ;; esac
	set +e
	out=$(within 30 "$B/unsub-sync" -n -c "$T/bad.conf" 2>&1); rc=$?
	set -e
	assert_eq "$rc" 1 "-n with $line"
	assert_match "${bad#*|}" "$out" "-n with $line says why"
done

# Every event, in order, signed (the receiver checks each signature).
recv_start
wait_until 10 "receiver up" test -s "$T/rport"
sync_start
add $(seq -f 'a%g@example.com' 1 20)
ctl resubscribe a3@example.com --list news --by test >/dev/null
wait_until 20 "21 events delivered" all_in_order
assert_eq "$(grep -c . "$R")" 21 "each event once when nothing failed"
assert_eq "$(grep -c badsig "$R" || true)" 0 "no bad signature"
wait_until 10 "metrics: delivered 21" sh -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -q '^unsub_sync_webhook_delivered_total 21$'"
assert_eq "$(metric unsub_sync_webhook_backlog)" 0 "backlog 0"

# 500, 404, a wrong secret and a hang: retried until 2xx, in order.
for mode in 500 404 wrongsecret hang; do
	echo "$mode" >"$T/mode"
	n=$(ids | wc -l)
	add "$mode-1@example.com" "$mode-2@example.com"
	case $mode in
	hang) wait_until 20 "a hung POST retried" seen hang 2
	      wait_until 10 "timed out in the log" grep -q "event $((n + 1)): Timeout was reached" "$T/sync.log" ;;
	wrongsecret) wait_until 20 "the receiver refuses a wrong secret" seen badsig 1 ;;
	*) wait_until 20 "$mode retried" seen refused 2
	   wait_until 10 "answered $mode in the log" grep -q "event $((n + 1)): answered $mode; retrying in" "$T/sync.log" ;;
	esac
	assert_eq "$(metric unsub_sync_webhook_backlog)" 2 "backlog while $mode"
	[ "$(metric unsub_sync_webhook_failed_total)" -ge 1 ] || fail "failed_total while $mode"
	all_in_order && fail "delivered while $mode"
	echo ok >"$T/mode"
	wait_until 30 "delivered after $mode" all_in_order
done

# The receiver down for a while, then up: everything after.
stop "$RPID"
add down-1@example.com down-2@example.com down-3@example.com
wait_until 20 "connection refused logged" grep -q "Couldn't connect to server; retrying in" "$T/sync.log"
sleep 1
recv_start
wait_until 30 "delivered after the receiver came back" all_in_order

# kill -9 in the middle of delivering (a slow receiver: 20 ms an
# event): at least once, in order.
stop "$SPID"
for i in $(seq 1 400); do echo "k$i@example.com,news"; done >"$T/k.csv"
ctl import "$T/k.csv" >/dev/null
echo slow >"$T/mode"
n=$(got | wc -l)
sync_start
wait_until 20 "delivery under way" seen ok $((n + 50))
kill -9 "$SPID"
reap "$SPID" 5
before=$(got | wc -l)
[ "$before" -lt $((n + 400)) ] || fail "all delivered before kill -9"
echo ok >"$T/mode"
sync_start
wait_until 60 "all delivered after kill -9" all_in_order
total=$(grep -c '^ok ' "$R")
echo "kill -9 after $((before - n)) of 400: $((total - $(got | wc -l))) sent twice (at least once)"

# The dashboard queries only unsub-sync metrics that exist.
m=$(curl -sf "http://127.0.0.1:$MPORT/metrics")
for n in $(grep -o 'unsub_sync_[a-z_]*' "$TOP/conf/grafana-unsub.json" | sort -u); do
	assert_match "^$n " "$m" "metric $n the dashboard queries"
done

# SIGTERM while a POST hangs: stopped within the bound.
echo hang >"$T/mode"
add last@example.com
wait_until 20 "hanging again" seen hang 3
stop "$SPID" 5
assert_eq "$reap_rc" 0 "unsub-sync exits 0 on SIGTERM during a hung POST"
echo "webhooks: ok"
