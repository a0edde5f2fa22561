#!/bin/sh
# Crash test: mailto replies through the private Postfix and one-click
# POSTs, four clients of each at once (so that commits are shared when the
# kill comes), while unsub-milter and unsub-httpd are killed with SIGKILL
# and restarted 20 times.  The clients retry until they get 250 or
# 200, as real senders do.  Afterwards every acknowledged unsubscribe is in
# the store and the store opens cleanly.
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/e2e/lib.sh"
. "$TOP/tests/http/lib.sh"
N=${CRASH_N:-60}
KILLS=${CRASH_KILLS:-20}
PORT=$(free_port)
unsub_env <<EOC
UnsubscribeURL http://127.0.0.1:$PORT/u/
HTTPListen 127.0.0.1:$PORT
HTTPTemplates $TOP/conf/templates
LogLevel warning
EOC
milter_start
sink_start
postfix_start "unix:$SOCK"
httpd_start

# Tokens for 2 x N recipients: replies for the first N, POSTs for the rest.
i=0
while [ $i -lt "$N" ]; do
	ctl token "m$i@crash.example" --list news |
	    sed -n 's/^[ \t]*<mailto:\([^?>]*\)?.*/\1/p' >>"$T/mailto"
	ctl token "h$i@crash.example" --list news |
	    sed -n 's#.*/u/\([A-Za-z0-9_-]*\)>.*#\1#p' >>"$T/urls"
	i=$((i + 1))
done
assert_eq "$(wc -l <"$T/mailto")" "$N" "mailto addresses"
CLIENTS=4
split -n r/$CLIENTS "$T/mailto" "$T/mailto."
split -n r/$CLIENTS "$T/urls" "$T/urls."

# mail_client FILE: reply to each mailto until Postfix says 250 (bounded).
mail_client() {
	while read -r to; do
		tries=0
		until swaks --server "127.0.0.1:$SMTP_PORT" --from x@crash.example \
		    --to "$to" --header "Subject: unsubscribe" --body "x" \
		    --timeout 20 >"$1.out" 2>&1; do
			tries=$((tries + 1))
			echo >>"$T/retries"
			[ $tries -lt 200 ] || { echo "gave up on $to" >>"$T/gaveup"; break; }
			sleep 0.1
		done
		[ $tries -lt 200 ] && echo "$to" >>"$T/acked_mail"
	done <"$1"
}

# http_client FILE: POST each URL until 200 (bounded).
http_client() {
	while read -r tok; do
		tries=0
		until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
		    -d List-Unsubscribe=One-Click "http://127.0.0.1:$PORT/u/$tok")" = 200 ]; do
			tries=$((tries + 1))
			echo >>"$T/retries"
			[ $tries -lt 400 ] || { echo "gave up on $tok" >>"$T/gaveup"; break; }
			sleep 0.05
		done
		[ $tries -lt 400 ] && echo "$tok" >>"$T/acked_http"
	done <"$1"
}

clients=
for f in "$T"/mailto.??; do
	mail_client "$f" & clients="$clients $!"
done
for f in "$T"/urls.??; do
	http_client "$f" & clients="$clients $!"
done
k=0
while [ $k -lt "$KILLS" ]; do
	sleep 0.3
	kill -KILL "$MILTER_PID" "$HTTPD_PID" 2>/dev/null || true
	reap "$MILTER_PID" 10
	reap "$HTTPD_PID" 10
	milter_start
	httpd_start
	k=$((k + 1))
done
for c in $clients; do reap "$c" 900; done
[ ! -s "$T/gaveup" ] || fail "clients gave up: $(cat "$T/gaveup")"

# Every acknowledged unsubscribe is in the store.
# (none gave up, so that is every address)
missing=0
i=0
while [ $i -lt "$N" ]; do
	for a in "m$i" "h$i"; do
		ctl status "$a@crash.example" >/dev/null 2>&1 || {
			missing=$((missing + 1)); echo "lost: $a@crash.example"; }
	done
	i=$((i + 1))
done
mdb_stat -a "$T/db" >"$T/mdb_stat" 2>&1 || fail "store does not open cleanly: $(cat "$T/mdb_stat")"
echo "crash: $KILLS SIGKILL restarts of both daemons; $(wc -l <"$T/acked_mail") mailto" \
    "and $(wc -l <"$T/acked_http") one-click unsubscribes acknowledged after" \
    "$(cat "$T/retries" 2>/dev/null | wc -l) refused tries; $missing lost"
assert_eq "$missing" 0 "acknowledged unsubscribes lost"

# A list's first mailing under SIGKILL: a recipient's mailto reference is
# acknowledged once in the milter's journal and committed within 0.5 s;
# killed in between, the next start commits it from the journal.  Every
# message Postfix relayed carries a reference that resolves.
M=${CRASH_FIRST:-40}
first_sender() {
	i=0
	while [ $i -lt "$M" ]; do
		send --from news@sender.example --to "first$i@crash.example" \
		    --header "From: News <news@sender.example>" \
		    --header "X-Unsub-List: news" --body "issue $i" ||
		    echo "first$i" >>"$T/first_refused"
		i=$((i + 1))
	done
}
first_sender >/dev/null 2>&1 &
fs=$!
k=0
while kill -0 "$fs" 2>/dev/null && [ $k -lt 200 ]; do
	sleep 0.25
	kill -KILL "$MILTER_PID" 2>/dev/null || true
	reap "$MILTER_PID" 10
	milter_start
	k=$((k + 1))
done
reap "$fs" 600
# once more, after the last message: its references too come from the
# journal of a killed milter, not from one still running
kill -KILL "$MILTER_PID" 2>/dev/null || true
reap "$MILTER_PID" 10
milter_start
relayed=0 unresolved=0
for f in $(sink_msgs); do
	to=$(sed -n 's/^To: *<\{0,1\}\(first[0-9]*@crash\.example\).*/\1/p' "$f" | head -n 1)
	[ -n "$to" ] || continue
	relayed=$((relayed + 1))
	m=$(grep -o 'mailto:unsubscribe+[A-Za-z0-9]*@unsub\.example\.com' "$f" | head -n 1)
	ctl decode "$m" 2>&1 | grep -q "^address: *$to$" || {
		unresolved=$((unresolved + 1)); echo "unresolved: $to $m"; }
done
echo "first mailing: $k SIGKILL restarts of the milter; $relayed of $M" \
    "relayed ($(cat "$T/first_refused" 2>/dev/null | wc -l) refused);" \
    "$(grep -c 'from the journal of a process' "$T/milter.log" || true)" \
    "starts committed a killed milter's references; $unresolved unresolved"
[ "$relayed" -gt 0 ] || fail "no message of the first mailing was relayed"
assert_eq "$unresolved" 0 "relayed messages whose mailto reference does not resolve"
# A clean stop commits the journal and removes it.
send --from news@sender.example --to last@crash.example \
    --header "X-Unsub-List: news" --body "last" || fail "last send"
assert_eq "$(ls "$T/db" | grep -c '^journal-' || true)" 2 "journal files while the milter runs"
kill -TERM "$MILTER_PID"
reap "$MILTER_PID" 10
assert_eq "$(ls "$T/db" | grep -c journal || true)" 0 "journal files after a clean stop"
m=$(grep -o 'mailto:unsubscribe+[A-Za-z0-9]*@unsub\.example\.com' "$(sink_msgs | tail -n 1)" | head -n 1)
assert_match "^address: +last@crash.example$" "$(ctl decode "$m" 2>&1 | grep '^address')" \
    "the last reference, committed at the stop"
