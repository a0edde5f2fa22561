#!/bin/sh
# make bench: one line per figure.  Filters are compared under the same
# client load in the same run, and reported as ratios.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
B="$TOP/build"
T=$(mktemp -d /tmp/unsub-bench.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

"$B/bench/micro"

mkdir -p "$T/db"
chmod 0755 "$T"
cat >"$T/conf" <<EOC
User nobody
Socket unix:$T/m.sock
SocketMode 0666
KeyFile $T/keys
Database $T/db
UnsubscribeMailbox unsubscribe@unsub.example.com
UnsubscribeURL https://unsub.example.com/u/
InternalHosts 127.0.0.1
LogLevel warning
EOC
"$B/unsubctl" -c "$T/conf" genkey >/dev/null
chown nobody "$T/db" "$T/keys"

# wait_sock SPEC: until a filter answers there.
wait_sock() {
	i=0
	while ! "$B/bench/mclient" "$1" 1 1 plain >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "no filter on $1"; exit 1; }
		sleep 0.05
	done
}

# rates CONNS MSGS KIND SPEC...: msgs/s of each filter, best of three
# rounds; each round runs every filter once, in turn, so a burst of noise
# on the machine does not fall on one filter's runs alone.
rates() {
	c=$1 m=$2 k=$3
	shift 3
	for round in 1 2 3; do
		i=0
		for spec in "$@"; do
			i=$((i + 1))
			r=$("$B/bench/mclient" "$spec" "$c" "$m" "$k" | cut -d' ' -f1)
			eval "b=\${best$i:-0}"
			[ "$r" -gt "$b" ] && eval "best$i=$r"
		done
	done
	i=0
	for spec in "$@"; do
		i=$((i + 1))
		eval "printf '%s ' \$best$i; unset best$i"
	done
}

ratio() { awk "BEGIN{printf \"%.2f\", $1/$2}"; }

# first_repeat CONNS MSGS SPEC: msgs/s of the filter at SPEC on new
# recipients (a list's first mailing) and on the 1000 it has mailed
# before, best of three rounds, the two in turn in each.
first_repeat() {
	fbest=0 rbest=0
	for round in 1 2 3; do
		r=$("$B/bench/mclient" "$3" "$1" "$2" new | cut -d' ' -f1)
		[ "$r" -gt "$fbest" ] && fbest=$r
		r=$("$B/bench/mclient" "$3" "$1" "$2" bulk | cut -d' ' -f1)
		[ "$r" -gt "$rbest" ] && rbest=$r
	done
	echo "$fbest $rbest"
}

for sock in unix inet; do
	if [ $sock = unix ]; then
		nspec="unix:$T/n.sock"; sspec="unix:$T/s.sock"
		espec="unix:$T/e.sock"; ospec="unix:$T/m.sock"
	else
		nspec="inet:28911@127.0.0.1"; sspec="inet:28913@127.0.0.1"
		espec="inet:28914@127.0.0.1"; ospec="inet:28912@127.0.0.1"
	fi
	sed -i "s#^Socket .*#Socket $ospec#" "$T/conf"
	"$B/bench/nullfilter" "$nspec" floor & PIDS="$PIDS $!"
	"$B/bench/nullfilter" "$sspec" same & PIDS="$PIDS $!"
	"$B/bench/nullfilter" "$espec" edits & PIDS="$PIDS $!"
	"$B/unsub-milter" -f -c "$T/conf" 2>"$T/milter.log" & PIDS="$PIDS $!"
	wait_sock "$nspec"; wait_sock "$sspec"; wait_sock "$espec"
	wait_sock "$ospec"
	# register the mailto reference of each of the 1000 recipients the
	# load cycles through (a recipient's first message writes it)
	"$B/bench/mclient" "$ospec" 1 1000 bulk >/dev/null
	for conns in 1 16; do
		msgs=$((20000 / conns))
		set -- $(rates "$conns" "$msgs" bulk "$ospec" "$sspec" \
		    "$espec" "$nspec")
		echo "milter $sock conns=$conns bulk: ours $1 msgs/s;" \
		    "do-nothing same-steps $2 (ratio $(ratio $1 $2));" \
		    "same-steps + the same edits $3 (ratio $(ratio $1 $3));" \
		    "floor $4 (ratio $(ratio $1 $4))"
		set -- $(rates "$conns" "$msgs" plain "$ospec" "$sspec" \
		    "$nspec")
		echo "milter $sock conns=$conns plain: ours $1 msgs/s;" \
		    "do-nothing same-steps $2 (ratio $(ratio $1 $2));" \
		    "floor $3 (ratio $(ratio $1 $3))"
		# A list's first mailing: each recipient's reference is
		# registered on its first message (in the milter's journal,
		# committed in groups); against the same milter on a repeat
		# mailing, in alternate rounds, and the same-edits filter.
		[ $sock = unix ] || continue
		set -- $(first_repeat "$conns" 10000 "$ospec") \
		    $(rates "$conns" 10000 new "$espec")
		echo "milter $sock conns=$conns bulk, first message to each" \
		    "recipient: ours $1 msgs/s; ours on a repeat mailing $2" \
		    "(ratio $(ratio $1 $2)); same-steps + the same edits $3" \
		    "(ratio $(ratio $1 $3))"
	done
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	PIDS=""
done

# MetricsListen on against off: two milters on one store, the same bulk
# load on each in turn (counting is skipped when it is off).
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed "s#^Socket .*#Socket unix:$T/off.sock#" "$T/conf" >"$T/conf.off"
sed "s#^Socket .*#Socket unix:$T/on.sock#" "$T/conf" >"$T/conf.on"
echo "MetricsListen 127.0.0.1:$mport" >>"$T/conf.on"
"$B/unsub-milter" -f -c "$T/conf.on" 2>"$T/milter.log" & PIDS="$PIDS $!"
"$B/unsub-milter" -f -c "$T/conf.off" 2>"$T/milter.log" & PIDS="$PIDS $!"
wait_sock "unix:$T/on.sock"; wait_sock "unix:$T/off.sock"
# both orders, the best of each: whichever runs first in a round is not
# favoured
set -- $(rates 16 1250 bulk "unix:$T/on.sock" "unix:$T/off.sock") \
    $(rates 16 1250 bulk "unix:$T/off.sock" "unix:$T/on.sock")
on=$(( $1 > $4 ? $1 : $4 )) off=$(( $2 > $3 ? $2 : $3 ))
counted=$(curl -sf "http://127.0.0.1:$mport/metrics" |
    sed -n 's/^unsub_milter_headers_added_total //p')
echo "milter unix conns=16 bulk, MetricsListen on: $on msgs/s ($counted" \
    "counted); off: $off msgs/s (ratio $(ratio $on $off))"
for p in $PIDS; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
PIDS=""

# The same comparison in instructions, which the machine's load does not
# move: each milter under callgrind, started as nobody itself (so that
# valgrind may write its counts at exit), the same bulk load.
if command -v valgrind >/dev/null 2>&1; then
	mkdir -p "$T/cg" && chmod 0777 "$T/cg"
	for v in off on; do
		sed "s#^Socket .*#Socket unix:$T/cg/$v.sock#" "$T/conf.$v" \
		    >"$T/cg/conf.$v"
		runuser -u nobody -- valgrind -q --tool=callgrind \
		    --callgrind-out-file="$T/cg/$v.out" "$B/unsub-milter" -f \
		    -c "$T/cg/conf.$v" 2>>"$T/milter.log" &
		p=$!
		i=0
		until "$B/bench/mclient" "unix:$T/cg/$v.sock" 1 1 plain \
		    >/dev/null 2>&1; do
			i=$((i + 1)); [ $i -lt 300 ] || { echo "no milter"; exit 1; }
			sleep 0.1
		done
		# each recipient's first message (its reference written) in
		# both runs alike, then the load
		"$B/bench/mclient" "unix:$T/cg/$v.sock" 1 1000 bulk >/dev/null
		"$B/bench/mclient" "unix:$T/cg/$v.sock" 4 2000 bulk >/dev/null
		kill "$p"; wait "$p" 2>/dev/null || true
		eval "ir_$v=\$(sed -n 's/^totals: //p' \"\$T/cg/$v.out\")"
	done
	echo "milter MetricsListen on: $ir_on instructions; off: $ir_off" \
	    "(9000 list messages each, callgrind; throughput ratio" \
	    "$(ratio "$ir_off" "$ir_on"))"
fi

# FeedbackID's cost: the same milter with and without the Feedback-ID
# header (one more packet per list message), under the same load.
sed "s#^Socket .*#Socket unix:$T/f.sock#" "$T/conf" >"$T/conf-fbid"
echo "FeedbackID %c:%l:news:BENCH" >>"$T/conf-fbid"
sed -i "s#^Socket .*#Socket unix:$T/m.sock#" "$T/conf"
"$B/unsub-milter" -f -c "$T/conf" 2>"$T/milter.log" & PIDS="$PIDS $!"
"$B/unsub-milter" -f -c "$T/conf-fbid" 2>"$T/milter-fbid.log" & PIDS="$PIDS $!"
wait_sock "unix:$T/m.sock"; wait_sock "unix:$T/f.sock"
for conns in 1 16; do
	set -- $(rates "$conns" $((20000 / conns)) bulk "unix:$T/f.sock" \
	    "unix:$T/m.sock")
	echo "milter unix conns=$conns bulk with FeedbackID: $1 msgs/s;" \
	    "without $2 (ratio $(ratio $1 $2))"
done
for p in $PIDS; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
PIDS=""

# One-click POSTs with wrk against the landing page GETs of the same URLs
# on the same server: a GET opens the token and reads the store, a POST
# also waits for its synced commit.  In turn, two rounds, best of each.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i '/^UnsubscribeURL /d' "$T/conf"	# a key may be given once
cat >>"$T/conf" <<EOC
UnsubscribeURL http://127.0.0.1:$PORT/u/
HTTPListen 127.0.0.1:$PORT
HTTPTemplates $TOP/conf/templates
HTTPMaxConnections 1024
HTTPMaxPerClient 1024
EOC
# The landing pages of 500 recipients' URLs; for the POSTs, each round a
# fresh 150,000 (a POST of a token already in force is a repeat, answered
# from a read without a commit, which is not what this line measures).
for n in $(seq 1 500); do
	"$B/unsubctl" -c "$T/conf" token "post$n@example.com" --list news |
	    sed -n 's#.*\(/u/[A-Za-z0-9_-]*\)>.*#\1#p'
done >"$T/paths.GET"
for round in 1 2; do
	"$B/bench/micro" urls "$T/keys" $((round * 1000000)) 150000 \
	    >"$T/paths.POST$round"
done
"$B/unsub-httpd" -f -c "$T/conf" 2>"$T/httpd.log" & hp=$!
i=0
until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$T/httpd.log"; exit 1; }
	sleep 0.05
done
# wrk_round METHOD PATHS: 4 s of wrk, its "wrk:" line added to
# $T/wrk.METHOD
wrk_round() {
	wrk -t 2 -c 64 -d 4s -s "$TOP/bench/post.lua" \
	    "http://127.0.0.1:$PORT/" -- "$2" "$1" | grep '^wrk:' >>"$T/wrk.$1"
}
for round in 1 2; do
	wrk_round POST "$T/paths.POST$round"
	wrk_round GET "$T/paths.GET"
done
# best METHOD: the line with the most requests/s
best() { sort -k2,2n "$T/wrk.$1" | tail -n 1 | sed 's/^wrk: //'; }
post=$(best POST) get=$(best GET)
echo "one-click POST, 64 connections: $post; landing page GET: $get;" \
    "ratio $(ratio "${post%% *}" "${get%% *}")"
# The preference centre: the same GETs once 20 lists are registered, each
# with a title and a description (the page reads the registry and the
# address's state and renders a checkbox per list), against the page with
# the token's list alone above.
for n in $(seq -w 1 20); do
	"$B/unsubctl" -c "$T/conf" lists set "list$n" --title "List number $n" \
	    --description "What list $n is about, how often it comes" >/dev/null
done
mv "$T/wrk.GET" "$T/wrk.GET1"
for round in 1 2; do wrk_round GET "$T/paths.GET"; done
prefs=$(best GET)
echo "preference page GET, 20 lists: $prefs; ratio to the landing page" \
    "with its list alone $(ratio "${prefs%% *}" "${get%% *}")"
kill $hp; wait $hp 2>/dev/null || true

sh "$TOP/bench/postfix.sh"

# Resident memory of the milter holding 500 idle MTA connections.
sed -i "s#^Socket .*#Socket unix:$T/m.sock#" "$T/conf"
"$B/unsub-milter" -f -c "$T/conf" 2>"$T/milter.log" & mp=$!
wait_sock "unix:$T/m.sock"
/usr/bin/python3 "$TOP/bench/idle.py" "$T/m.sock" 500 "$mp"
kill $mp; wait $mp 2>/dev/null || true
