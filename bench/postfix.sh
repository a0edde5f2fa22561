#!/bin/sh
# Through a private Postfix: smtp-source (20 sessions, 4 KiB bulk messages)
# -> Postfix -> smtp-sink, with no milter, the do-nothing filter, our
# milter, and our milter + opendkim.  The same load in the same run; the
# figure is messages accepted per second, as ratios.
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
. "$TOP/tests/common.sh"
. "$TOP/tests/e2e/lib.sh"
unsub_env <<EOC
LogLevel warning
EOC
milter_start
"$B/bench/nullfilter" "unix:$T/null.sock" floor & PIDS="$PIDS $!"
"$B/bench/nullfilter" "unix:$T/same.sock" same & PIDS="$PIDS $!"
# the same two filters on inet: sockets, for the delayed-ACK question
NPORT=$(free_port)
MPORT=$(free_port)
"$B/bench/nullfilter" "inet:$NPORT@127.0.0.1" floor & PIDS="$PIDS $!"
sed "s#^Socket .*#Socket inet:$MPORT@127.0.0.1#" "$CONF" >"$T/inet.conf"
"$B/unsub-milter" -f -c "$T/inet.conf" >>"$T/milter-inet.log" 2>&1 & PIDS="$PIDS $!"
sink_start
opendkim_start sender.example
postfix_start ""
N=${POSTFIX_BENCH_MSGS:-4000}

# A 4 KiB bulk message, as an application would hand it over.
{
	printf 'From: News <news@sender.example>\nTo: reader@example.com\n'
	printf 'Subject: This week\nX-Unsub-List: news\n\n'
	i=0
	while [ $i -lt 56 ]; do
		printf '%071d\n' $i
		i=$((i + 1))
	done
} >"$T/msg"

# rate MILTERS [COUNT]: messages/s accepted by Postfix with
# smtpd_milters=MILTERS, of COUNT messages (N by default).
rate() {
	n=${2:-$N}
	postconf -c "$PF" -e "smtpd_milters = $1" >/dev/null
	postfix -c "$PF" reload >/dev/null 2>&1
	sleep 1
	t0=$(date +%s.%N)
	smtp-source -s 20 -m "$n" -F "$T/msg" -f news@sender.example \
	    -t reader@example.com "127.0.0.1:$SMTP_PORT" ||
		fail "smtp-source failed with milters '$1'"
	t1=$(date +%s.%N)
	awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }'
}
max() { [ "$1" -gt "$2" ] && echo "$1" || echo "$2"; }

none=$(rate "")
# The filters the goal compares, in turn, three rounds of a third of the
# load each, best of three: this machine's noise is larger than the
# differences between them.
null=0
same=0
ours=0
for round in 1 2 3; do
	null=$(max "$null" "$(rate "unix:$T/null.sock" $((N / 3)))")
	same=$(max "$same" "$(rate "unix:$T/same.sock" $((N / 3)))")
	ours=$(max "$ours" "$(rate "unix:$SOCK" $((N / 3)))")
done
dkim=$(rate "unix:$SOCK, unix:$DKIM_SOCK")
null_inet=$(rate "inet:127.0.0.1:$NPORT" $((N / 2)))
ours_inet=$(rate "inet:127.0.0.1:$MPORT" $((N / 2)))
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "postfix 20 sessions, 4 KiB bulk: no milter $none msgs/s;" \
    "do-nothing floor filter $null; do-nothing same-steps $same;" \
    "ours $ours (ratio to floor $(ratio "$ours" "$null"), to same-steps $(ratio "$ours" "$same"));" \
    "ours + opendkim $dkim (ratio to floor $(ratio "$dkim" "$null"))"
echo "postfix over inet: sockets: do-nothing filter $null_inet msgs/s;" \
    "ours $ours_inet (ratio $(ratio "$ours_inet" "$null_inet"));" \
    "ours inet/unix $(ratio "$ours_inet" "$ours")"
