#!/bin/sh
# hostile.sh - a campaign against the real daemons on loopback, as a
# hostile client and a careless operator would try them (issue 14; not
# part of make check: it takes minutes, mounts a tmpfs as root, and its
# slow clients time out on purpose).  Counts the inputs tried, the
# crashes (a program killed by a signal, hung, or a daemon gone) and the
# lost acknowledgements (a 200 or exit 0 whose unsubscribe is not in the
# store afterwards), prints them and exits non-zero unless both are 0.
#
#   sh tests/campaign/hostile.sh        (after make)
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/http/lib.sh"
tried=0 crashes=0 lost=0

note() { echo "campaign: $*"; }
crash() { crashes=$((crashes + 1)); note "CRASH: $*"; }

# ran RC WHAT: count one input; a signal or a timeout is a crash.
ran() {
	tried=$((tried + 1))
	[ "$1" -lt 124 ] || crash "$2: exit $1"
}

# acked_in_store FILE: every address in FILE (one a line) is suppressed.
acked_in_store() {
	while read -r a; do
		ctl status "$a" --json | grep -q '"suppressed":true' || {
			lost=$((lost + 1)); note "LOST: $a acknowledged, not stored"; }
	done <"$1"
}

# try SECS WHAT CMD...: count one input, CMD run for at most SECS.
try() {
	_t_s=$1 _t_what=$2
	shift 2
	set +e
	within "$_t_s" "$@" >"$T/try.out" 2>&1
	_t_rc=$?
	set -e
	ran "$_t_rc" "$_t_what"
}

# alive PID WHAT: a daemon that died is a crash.
alive() {
	kill -0 "$1" 2>/dev/null || crash "$2 died: $(tail -5 "$T"/*.log)"
}

# tokens N PREFIX: N lines "ADDRESS TOKEN" for list news.
tokens() {
	i=0
	while [ $i -lt "$1" ]; do
		echo "$2$i@example.com $(url_token "$2$i@example.com" --list news)"
		i=$((i + 1))
	done
}

# post_all FILE: one-click POST every token of FILE, 16 at a time;
# prints the addresses answered 200.
post_all() {
	# shellcheck disable=SC2016
	xargs -P 16 -L 1 sh -c 'c=$(curl -s -o /dev/null -w "%{http_code}" \
	    -d List-Unsubscribe=One-Click "$0/u/$2"); [ "$c" != 200 ] || echo "$1"' \
	    "$BASE" <"$1"
}

http_env <<EOC
HTTPTimeout 3
HTTPMaxPerClient 32
PidFile $T/run/httpd.pid
EOC
httpd_start

# 1. Raw requests: methods, paths, framing, huge headers, pipelining and
# slowloris (rawhttp.py); the pipelined POSTs' 200s must be stored.
tokens 20 pipe >"$T/pipe"
t=$(url_token victim@example.com --list news)
python3 "$TOP/tests/campaign/rawhttp.py" "$PORT" "$t" <"$T/pipe" >"$T/raw.out" 2>&1 ||
    crash "rawhttp.py: $(tail -3 "$T/raw.out")"
tried=$((tried + $(sed -n 's/^tried //p' "$T/raw.out")))
sed -n 's/^acked //p' "$T/raw.out" >"$T/acked"
note "raw: $(grep -c . "$T/acked") pipelined POSTs acknowledged;" \
    "$(grep slowloris "$T/raw.out")"
grep -q 'slowloris_served 1' "$T/raw.out" ||
    note "FINDING: a client was not served while 60 slow ones were open"
alive "$HTTPD_PID" unsub-httpd
acked_in_store "$T/acked"
note "$(grep pipelined "$T/raw.out"); stored: $(cut -d' ' -f1 "$T/pipe" |
    while read -r a; do ctl status "$a" --json | grep -c '"suppressed":true' ||
    true; done | grep -c 1)"

# 2. SIGTERM in the middle of 200 concurrent one-click POSTs; then the
# store directory made unreadable under the running daemon.
tokens 200 term >"$T/term"
(sleep 0.3; kill -TERM "$HTTPD_PID") &
post_all "$T/term" >"$T/acked"
reap "$HTTPD_PID" 10
ran "$reap_rc" "unsub-httpd stopped during POSTs"
tried=$((tried + 200))
note "SIGTERM: $(grep -c . "$T/acked") of 200 POSTs acknowledged before the stop"
acked_in_store "$T/acked"
httpd_start
tokens 100 perm >"$T/perm"
chmod 000 "$T/db"
post_all "$T/perm" >"$T/acked"
chmod 755 "$T/db"
tried=$((tried + 100))
note "chmod 000: $(grep -c . "$T/acked" || true) of 100 POSTs acknowledged"
alive "$HTTPD_PID" unsub-httpd
acked_in_store "$T/acked"
assert_eq "$(code POST "$BASE/u/$t" -d List-Unsubscribe=One-Click)" 200 \
    "a POST once the directory is back"

# 3. The careless operator's configs and key files, to -n of every program.
cp "$CONF" "$T/good.conf"
keyline() { sed "s#^KeyFile .*#KeyFile $1#" "$T/good.conf"; }
head -c 1000000 /dev/zero | tr '\0' a >"$T/long"
{ cat "$T/good.conf"; printf '# %s\n' "$(cat "$T/long")"; } >"$T/c.longcomment"
{ grep -v '^UnsubscribeURL' "$T/good.conf"
  printf 'UnsubscribeURL https://x/%s/\n' "$(cat "$T/long")"; } >"$T/c.longvalue"
sed 's/^User nobody/User no\x00body/' "$T/good.conf" >"$T/c.nul"
sed 's/$/\r/' "$T/good.conf" >"$T/c.crlf"
{ printf '\357\273\277'; cat "$T/good.conf"; } >"$T/c.bom"
{ cat "$T/good.conf"; seq 1 100000 | sed 's/^/# /'; } >"$T/c.manylines"
{ cat "$T/good.conf"; printf 'ListHeader X-A'; } >"$T/c.nonewline"
head -c 65536 /dev/urandom >"$T/c.random"
mkdir "$T/c.dir"
mkfifo "$T/c.fifo"
ln -s "$T/keys" "$T/keys.link"
keyline "$T/keys.link" >"$T/c.keylink"
keyline /dev/zero >"$T/c.keyzero"
keyline "$T/c.dir" >"$T/c.keydir"
: >"$T/keys.empty"; keyline "$T/keys.empty" >"$T/c.keyempty"
sed 's/$/\r/' "$T/keys" >"$T/keys.crlf"; keyline "$T/keys.crlf" >"$T/c.keycrlf"
head -c 20 "$T/keys" >"$T/keys.short"; keyline "$T/keys.short" >"$T/c.keyshort"
head -c 4096 /dev/urandom >"$T/keys.junk"; keyline "$T/keys.junk" >"$T/c.keyjunk"
head -c 10000000 /dev/zero >"$T/keys.big"; keyline "$T/keys.big" >"$T/c.keybig"
ln -s "$T/nowhere" "$T/keys.dangling"; keyline "$T/keys.dangling" >"$T/c.keydangling"
for f in "$T"/c.* "$T"/keys.*; do [ -h "$f" ] || chmod 0644 "$f"; done
for c in "$T"/c.* /dev/zero /dev/null /dev/full; do
	for p in unsubctl unsub-milter unsub-httpd; do
		# a FIFO with a writer, as -c <(...) gives (without one, open
		# blocks, as cat's would)
		[ ! -p "$c" ] || timeout 12 sh -c "cat '$T/good.conf' >'$c'" &
		if [ "$p" = unsubctl ]; then
			try 10 "$p -c $c" "$B/$p" -c "$c" lists
		else
			try 10 "$p -n -c $c" "$B/$p" -n -c "$c"
		fi
	done
done
note "configs: $tried inputs so far"

# 4. Ten genkeys at once, then every key opens a token.
gk=""
for i in 1 2 3 4 5 6 7 8 9 10; do ctl genkey >/dev/null 2>&1 & gk="$gk $!"; done
for p in $gk; do reap "$p" 30; ran "$reap_rc" "concurrent genkey"; done
assert_eq "$("$B/unsub-milter" -n -c "$CONF")" "configuration OK" \
    "the keyring after ten concurrent genkeys"
assert_match "^List-Unsubscribe" "$(ctl token k@example.com --list news)" \
    "a token with the newest key"

# 5. Signals during an import of 20000 rows: the store stays whole and
# holds whole batches of a thousand (unsubctl(8): each batch durably).
seq 1 20000 | sed 's/.*/imp&@example.com,news/' >"$T/imp.csv"
for sig in KILL TERM INT HUP KILL TERM; do
	before=$(ctl export --format csv | grep -c . || true)
	"$B/unsubctl" -c "$CONF" import "$T/imp.csv" >/dev/null 2>&1 &
	p=$!
	sleep 0.0$(( $(od -An -N1 -tu1 /dev/urandom) % 10 ))
	kill -"$sig" "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	after=$(ctl export --format csv | grep -c . || true)
	try 20 "status after SIG$sig during import" \
	    "$B/unsubctl" -c "$CONF" status imp1@example.com
	[ $(((after - before) % 1000)) = 0 ] ||
	    crash "SIG$sig: import left $((after - before)) rows, not whole batches"
done

# 6. The milter: hostile list ids, campaigns and profiles.
milter_start
set +e
within 300 miltertest -D sock="unix:$SOCK" -D libdir="$TOP/tests/milter" \
    -D ctl="$B/unsubctl -c $CONF" -D script="$TOP/tests/campaign/hostile.lua" \
    -s "$TOP/tests/milter/wrap.lua" >"$T/lua.out" 2>&1
rc=$?
set -e
[ $rc = 0 ] || crash "hostile.lua: $(cat "$T/lua.out")"
n=$(sed -n 's/^tried //p' "$T/lua.out")
tried=$((tried + ${n:-0}))
alive "$MILTER_PID" unsub-milter

# 7. Disk full: the store on a 256 KiB tmpfs, filled by an import, then
# one-click POSTs to a fresh unsub-httpd on it.
stop "$HTTPD_PID"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=256k tmpfs "$T/db" 2>/dev/null; then
	chown nobody "$T/db"
	try 60 "import onto a full disk" "$B/unsubctl" -c "$CONF" import "$T/imp.csv"
	note "disk full: import exit $_t_rc: $(tail -1 "$T/try.out")"
	chown nobody "$T"/db/*
	: >"$T/httpd.log"
	httpd_start
	tokens 100 full >"$T/full"
	post_all "$T/full" >"$T/acked"
	tried=$((tried + 100))
	note "disk full: $(grep -c . "$T/acked" || true) of 100 POSTs acknowledged;" \
	    "$(grep -ci 'space\|full\|store' "$T/httpd.log" || true) store errors" \
	    "logged, the last: $(grep -i 'space\|full\|store' "$T/httpd.log" | tail -1)"
	alive "$HTTPD_PID" unsub-httpd
	acked_in_store "$T/acked"
	stop "$HTTPD_PID"
	umount "$T/db"
else
	note "disk full: skipped (needs root and tmpfs)"
fi

note "inputs tried $tried, crashes $crashes, lost $lost"
[ "$crashes" = 0 ] && [ "$lost" = 0 ]
