#!/bin/sh
# A bounce that cannot be recorded (the store at DatabaseMapMax) gets
# 451 4.3.0 from the real daemon and records nothing; once the store can
# grow, the same report is recorded.  (Not in t-milter.sh: the other
# scripts need a store that writes.)
. "$(dirname "$0")/../common.sh"
unsub_env <<EOC
DatabaseMapSize 262144
DatabaseMapMax 262144
BounceMailbox bounces@sender.example
EOC
# the token's mailto reference is written now: the full store takes none
ctl token full@example.com --list news >/dev/null
store_fill full example.com news
milter_start
run_lua() {
	miltertest -D sock="unix:$SOCK" -D libdir="$TOP/tests/milter" \
	    -D ctl="$B/unsubctl -c $CONF" -D script="$1" \
	    -s "$TOP/tests/milter/wrap.lua" >"$T/lua.out" 2>&1 ||
		fail "$(basename "$1"): $(cat "$T/lua.out")"
}
run_lua "$TOP/tests/milter/store-full/report.lua"
wait_log "$T/milter.log" "report: store error: .*tempfail"
set +e; ctl status full@example.com >/dev/null; rc=$?; set -e
assert_eq "$rc" 1 "full@ recorded while the store is full"
# repaired: the sender's retry is recorded
sed -i 's/^DatabaseMapMax .*/DatabaseMapMax 0/' "$CONF"
kill "$MILTER_PID"; wait "$MILTER_PID" 2>/dev/null || true
milter_start
cat >"$T/retry.lua" <<'EOL'
dofile(libdir .. "/lib.lua")
check(send_report("bounces@sender.example", "dsn-postfix-5.1.1.eml",
    "retry@example.com") == SMFIR_DISCARD, "retry: want discard")
EOL
run_lua "$T/retry.lua"
assert_match '"source":"bounce"' "$(ctl status retry@example.com --json)" "retry recorded"
echo "report store failure: ok"
