#!/bin/sh
# The real unsub-milter driven by miltertest, one Lua script per rule.
. "$(dirname "$0")/../common.sh"
unsub_env <<EOC
BounceMailbox bounces@sender.example
ComplaintMailbox fbl@sender.example
SoftBounceLimit 2
FeedbackID %c:%l:news:S1
EOC
milter_start
failed=0
for s in "$TOP"/tests/milter/*.lua; do
	case "$s" in */lib.lua|*/wrap.lua) continue ;; esac
	if within 120 miltertest -D sock="unix:$SOCK" -D libdir="$TOP/tests/milter" \
	    -D ctl="$B/unsubctl -c $CONF" -D script="$s" \
	    -s "$TOP/tests/milter/wrap.lua" >"$T/lua.out" 2>&1; then
		echo "ok   $(basename "$s")"
	else
		echo "FAIL $(basename "$s")"; sed 's/^/     /' "$T/lua.out"
		failed=1
	fi
done
kill -0 "$MILTER_PID" || fail "milter died: $(cat "$T/milter.log")"
echo "--- milter log"; cat "$T/milter.log"
[ $failed = 0 ]
