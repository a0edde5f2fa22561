#!/bin/sh
# The events feed's figures (make bench).  Webhook delivery: WEBHOOK_N
# events (default 20000) imported
# while unsub-sync is stopped, then the time from its start until every
# one is answered 2xx by bench/hookrecv (one event a POST, one kept-alive
# connection, signed), read from unsub-sync's webhook metrics.  No
# PostgreSQL: unsub-sync runs with WebhookURL alone.  Then the wake
# latency of GET /api/v1/events?wait= (bench/longpoll.py).
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
. "$TOP/tests/common.sh"
. "$TOP/tests/http/lib.sh"
N=${WEBHOOK_N:-20000}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HPORT=$(port)
MPORT=$(port)
echo bench-secret >"$T/secret"
chmod 0600 "$T/secret"
echo bench-api-secret-0123456789 >"$T/api-tokens"
chmod 0600 "$T/api-tokens"
http_env <<EOC
LogLevel warning
APITokenFile $T/api-tokens
WebhookURL http://127.0.0.1:$HPORT/hook
WebhookSecretFile $T/secret
SyncMetricsListen 127.0.0.1:$MPORT
EOC
"$B/bench/hookrecv" "$HPORT" &
PIDS="$PIDS $!"
seq 1 "$N" | sed 's/.*/hook&@bench.example,news/' >"$T/hook.csv"
ctl import "$T/hook.csv" >/dev/null
delivered() {
	curl -sf "http://127.0.0.1:$MPORT/metrics" |
	    sed -n 's/^unsub_sync_webhook_delivered_total //p'
}
t0=$(date +%s.%N)
"$B/unsub-sync" -f -c "$CONF" >>"$T/sync.log" 2>&1 &
PIDS="$PIDS $!"
i=0
until [ "$(delivered)" = "$N" ]; do
	i=$((i + 1))
	[ $i -lt 3000 ] || fail "webhooks: $(delivered) of $N after 300 s: $(tail -n 3 "$T/sync.log")"
	sleep 0.1
done
t1=$(date +%s.%N)
echo "webhook delivery: $N events in $(awk "BEGIN{printf \"%.2f\", $t1-$t0}") s," \
    "$(awk "BEGIN{printf \"%.0f\", $N/($t1-$t0)}") events/s (one a POST, signed, keep-alive; goal >= 5k/s)"

httpd_start
python3 "$TOP/bench/longpoll.py" "$BASE" bench-api-secret-0123456789 \
    "${LONGPOLL_N:-200}" "$B/unsubctl" "$CONF"
