#!/bin/sh
# The Debian package: dpkg-buildpackage -us -uc -b builds it from the
# committed tree, it installs, creates the unsub user and store directory,
# both daemons start from the installed files (as unsub), and it removes.
. "$(dirname "$0")/../common.sh"
command -v dpkg-buildpackage >/dev/null || fail "dpkg-buildpackage missing (make deps)"
mkdir -p "$T/src"
git -C "$TOP" archive --prefix=unsub-milter/ HEAD | tar -x -C "$T/src"
(cd "$T/src/unsub-milter" && dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1 ||
	fail "dpkg-buildpackage: $(tail -20 "$T/build.log")"
deb=$(ls "$T"/src/unsub-milter_*_*.deb)
dpkg -i "$deb" >"$T/install.log" 2>&1 || fail "dpkg -i: $(cat "$T/install.log")"
trap 'rc=$?; trap - EXIT; dpkg -P unsub-milter >/dev/null 2>&1 || true
cleanup || [ $rc != 0 ] || rc=1; exit $rc' EXIT
id unsub >/dev/null || fail "no unsub user"
[ -d /var/lib/unsub-milter ] || fail "no store directory"
for f in /usr/sbin/unsub-milter /usr/sbin/unsub-httpd /usr/sbin/unsubctl /usr/sbin/unsub-sync \
    /usr/share/man/man8/unsub-milter.8.gz /lib/systemd/system/unsub-milter.service \
    /etc/unsub-milter/templates/landing.sv.html \
    /usr/share/doc/unsub-milter/examples/unsub-milter.conf \
    /usr/share/doc/unsub-milter/examples/postfix-main.cf \
    /usr/share/doc/unsub-milter/examples/opendkim.conf; do
	[ -e "$f" ] || fail "package lacks $f"
done
ls /usr/share/doc/unsub-milter/README.md* >/dev/null 2>&1 || fail "package lacks README"
# Built with every hardening flag the Makefile is handed (lintian, when
# installed, names any that is missing).
if command -v lintian >/dev/null; then
	tags=$(lintian --pedantic "$deb" 2>/dev/null | grep hardening || true)
	[ -z "$tags" ] || fail "lintian: $tags"
fi
# a private config on the installed programs (the system paths stay as
# they are; the store and socket live in the test's temp dir)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/db" "$T/run"
cat >"$T/pkg.conf" <<EOC
User unsub
Socket unix:$T/run/milter.sock
KeyFile $T/keys
Database $T/db
UnsubscribeURL http://127.0.0.1:$PORT/u/
HTTPListen 127.0.0.1:$PORT
HTTPTemplates /etc/unsub-milter/templates
EOC
/usr/sbin/unsubctl -c "$T/pkg.conf" genkey >/dev/null
chown unsub "$T/db" "$T/run" "$T/keys"
assert_eq "$(within 30 /usr/sbin/unsub-milter -n -c "$T/pkg.conf")" "configuration OK" "installed milter -n"
/usr/sbin/unsub-milter -f -c "$T/pkg.conf" >"$T/m.log" 2>&1 & PIDS="$PIDS $!"
/usr/sbin/unsub-httpd -f -c "$T/pkg.conf" >"$T/h.log" 2>&1 & PIDS="$PIDS $!"
i=0
until [ -S "$T/run/milter.sock" ] && curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "installed daemons did not start: $(cat "$T/m.log" "$T/h.log")"
	sleep 0.05
done
echo "package $(basename "$deb"): builds, installs, daemons start"
