#!/bin/sh
# Both daemons under valgrind memcheck: the milter driven by the outbound
# and inbound miltertest scripts, unsub-httpd by curl.  Any invalid read or
# write, use of uninitialised memory or definite leak fails.
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/http/lib.sh"
if ldd "$B/unsub-milter" | grep -q libasan; then
	echo "built with ASan (make SAN=1): ASan checks memory in this run, valgrind cannot run it"
	exit 77
fi
PORT=$(free_port)
unsub_env <<EOC
UnsubscribeURL https://unsub.example.com/u/
HTTPListen 127.0.0.1:$PORT
HTTPTemplates $TOP/conf/templates
EOC
VG="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --suppressions=$TOP/tests/milter/valgrind.supp"

rm -f "$SOCK"
$VG "$B/unsub-milter" -f -c "$CONF" >"$T/vg-milter.log" 2>&1 &
vm=$!
PIDS="$PIDS $vm"
i=0
while [ ! -S "$SOCK" ]; do
	i=$((i + 1)); [ $i -lt 400 ] || fail "milter under valgrind did not start"
	sleep 0.05
done
for s in outbound-headers outbound-suppressed inbound; do
	within 300 miltertest -D sock="unix:$SOCK" -D libdir="$TOP/tests/milter" \
	    -D ctl="$B/unsubctl -c $CONF" -D script="$TOP/tests/milter/$s.lua" \
	    -s "$TOP/tests/milter/wrap.lua" >"$T/lua.out" 2>&1 ||
		fail "$s.lua under valgrind: $(cat "$T/lua.out")"
done
kill -TERM $vm
python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.connect('$SOCK')" 2>/dev/null || true
reap $vm 60
[ $reap_rc -ne 99 ] || fail "memcheck errors in unsub-milter: $(cat "$T/vg-milter.log")"

$VG "$B/unsub-httpd" -f -c "$CONF" >"$T/vg-httpd.log" 2>&1 &
vh=$!
PIDS="$PIDS $vh"
i=0
until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 400 ] || fail "httpd under valgrind did not start"
	sleep 0.05
done
t=$(url_token vg@example.com --list news)
code GET "http://127.0.0.1:$PORT/u/$t" -H 'Accept-Language: de' >/dev/null
code POST "http://127.0.0.1:$PORT/u/$t" -d List-Unsubscribe=One-Click >/dev/null
code POST "http://127.0.0.1:$PORT/u/$t" -F List-Unsubscribe=One-Click >/dev/null
code POST "http://127.0.0.1:$PORT/u/x$t" -d List-Unsubscribe=One-Click >/dev/null
code GET "http://127.0.0.1:$PORT/metrics" >/dev/null
stop $vh 60
[ $reap_rc -ne 99 ] || fail "memcheck errors in unsub-httpd: $(cat "$T/vg-httpd.log")"
ctl status vg@example.com >/dev/null || fail "the POST under valgrind recorded nothing"
echo "valgrind memcheck: both daemons clean"
