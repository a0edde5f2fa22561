#!/bin/sh
# The store against a careless operator (issue 14): every acknowledged
# write reaches the disk first (a sync counted per commit, none for a
# repeat); lock.mdb removed under concurrent writers loses no
# acknowledged write; a replaced data.mdb is not written into; a
# truncated or corrupt data.mdb is refused by every program with one
# line, never a signal.
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/http/lib.sh"
http_env </dev/null
SHIM="$B/tests/synccount.so"
[ -f "$SHIM" ] || fail "$SHIM not built (make check builds it)"
# a sanitizer build would insist on coming first in the process
export ASAN_OPTIONS=verify_asan_link_order=0

suppressed() { ctl status "$1" --json | grep -q '"suppressed":true'; }

# 14.12: each acknowledged add synced its data and its meta page.
: >"$T/syncs"
for i in 1 2 3 4 5; do
	SYNCCOUNT_FILE="$T/syncs" LD_PRELOAD="$SHIM" ctl add "s$i@example.com" \
	    --list news >/dev/null || fail "add s$i"
done
assert_eq "$(wc -l <"$T/syncs" | tr -d ' ')" 5 "one count per add"
bad=$(grep -cv '^syncs=[1-9][0-9]* dsync_writes=[1-9]' "$T/syncs" || true)
assert_eq "$bad" 0 "adds acknowledged without a data sync and a synced meta page: $(cat "$T/syncs")"
# 14.11: a repeat syncs nothing (it writes nothing)
: >"$T/syncs"
set +e
SYNCCOUNT_FILE="$T/syncs" LD_PRELOAD="$SHIM" ctl add s1@example.com \
    --list news >/dev/null 2>&1
rc=$?
set -e
assert_eq "$rc" 1 "a repeated add: nothing to do"
assert_eq "$(cat "$T/syncs")" "syncs=0 dsync_writes=0" "a repeat's syncs"

# 14.1: 4 concurrent writers, 50 adds each, lock.mdb removed 5 times
# under them: every add that exited 0 is in the store at the path.
writer() {
	for i in $(seq 1 50); do
		a="w$1-$i@example.com"
		ctl add "$a" --list news >/dev/null 2>>"$T/werr$1" &&
		    echo "$a" >>"$T/acked$1"
	done
	return 0
}
for w in 1 2 3 4; do
	: >"$T/acked$w"
	writer $w &
	eval "wpid$w=\$!"
done
for k in 1 2 3 4 5; do
	sleep 0.3
	rm -f "$T/db/lock.mdb"
done
wait $wpid1 $wpid2 $wpid3 $wpid4
acked=$(cat "$T"/acked? | wc -l)
ctl list --list news >"$T/list"
lost=0
for a in $(cat "$T"/acked?); do
	grep -qx "$a" "$T/list" || grep -q "^$a[ ,	]" "$T/list" ||
	    lost=$((lost + 1))
done
echo "lock.mdb removed 5 times under 200 adds: $acked acknowledged, $lost lost"
assert_eq "$lost" 0 "acknowledged adds lost"
[ "$acked" -gt 100 ] || fail "only $acked of 200 adds acknowledged: $(cat "$T"/werr?)"

# 14.1: unsub-httpd answers 503 for a write into a replaced data.mdb,
# then writes into the file at the path.
httpd_start
t=$(url_token h1@example.com --list news)
cp "$T/db/data.mdb" "$T/db/data.new" && mv "$T/db/data.new" "$T/db/data.mdb"
chown nobody "$T/db/data.mdb"
assert_eq "$(code POST "$BASE/u/$t" -d 'List-Unsubscribe=One-Click')" 503 \
    "one-click into a replaced data.mdb"
! suppressed h1@example.com || fail "h1 written though 503"
assert_eq "$(code POST "$BASE/u/$t" -d 'List-Unsubscribe=One-Click')" 200 \
    "one-click after the reopen"
suppressed h1@example.com || fail "h1 acknowledged, not in the store"

# 14.7: data.mdb truncated to half, or its meta pages overwritten: every
# program refuses with one line, none dies of a signal.  The running
# httpd first: 503, still alive.
size=$(stat -c %s "$T/db/data.mdb")
cp "$T/db/data.mdb" "$T/data.good"
refuse() {	# WHAT: each program on the damaged store
	set +e
	ctl status s1@example.com >"$T/out" 2>&1; rc=$?
	set -e
	assert_eq "$rc" 3 "$1: unsubctl status exit"
	assert_eq "$(wc -l <"$T/out" | tr -d ' ')" 1 "$1: one line: $(cat "$T/out")"
	set +e
	ctl add z@example.com >"$T/out" 2>&1; rc=$?
	set -e
	assert_eq "$rc" 3 "$1: unsubctl add exit: $(cat "$T/out")"
	for p in unsub-milter unsub-httpd; do
		set +e
		"$B/$p" -n -c "$CONF" >"$T/out" 2>&1; rc=$?
		set -e
		[ "$rc" -ge 1 ] && [ "$rc" -lt 124 ] ||
		    fail "$1: $p -n passed or died (exit $rc): $(cat "$T/out")"
		assert_match 'data\.mdb|LMDB' "$(cat "$T/out")" "$1: $p -n says why"
		set +e
		timeout 20 "$B/$p" -f -c "$CONF" >"$T/out" 2>&1; rc=$?
		set -e
		[ "$rc" -ge 1 ] && [ "$rc" -lt 124 ] ||
		    fail "$1: $p started or died (exit $rc): $(cat "$T/out")"
		assert_match 'data\.mdb|LMDB' "$(cat "$T/out")" "$1: $p says why"
	done
}
milter_start
i=0	# the socket comes before the store is open
until grep -q 'started on' "$T/milter.log"; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "milter did not start: $(cat "$T/milter.log")"
	sleep 0.05
done
truncate -s $((size / 2)) "$T/db/data.mdb"
assert_eq "$(code GET "$BASE/u/$t")" 503 "landing page on a truncated store"
assert_eq "$(code POST "$BASE/u/$t" -d 'List-Unsubscribe=One-Click')" 503 \
    "one-click on a truncated store"
kill -0 "$HTTPD_PID" || fail "unsub-httpd died on a truncated store"
miltertest -D sock="unix:$SOCK" -D libdir="$TOP/tests/milter" \
    -D script="$TOP/tests/store/damaged.lua" \
    -s "$TOP/tests/milter/wrap.lua" >"$T/lua.out" 2>&1 ||
    fail "milter on a truncated store: $(cat "$T/lua.out" "$T/milter.log")"
kill -0 "$MILTER_PID" || fail "unsub-milter died on a truncated store"
assert_match 'truncated.*; tempfail' "$(cat "$T/milter.log")" "the milter says why"
kill "$HTTPD_PID" "$MILTER_PID"
wait "$HTTPD_PID" "$MILTER_PID" || true
refuse "half"
truncate -s 4096 "$T/db/data.mdb"
refuse "one page"
cp "$T/data.good" "$T/db/data.mdb"
dd if=/dev/urandom of="$T/db/data.mdb" bs=4096 count=2 conv=notrunc 2>/dev/null
refuse "meta pages overwritten"
echo "store against a careless operator: ok"
