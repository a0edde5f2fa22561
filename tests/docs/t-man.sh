#!/bin/sh
# The man pages are lint-clean (mandoc -T lint, style messages too), every
# config key is documented, and
# `make install DESTDIR=...` lays out the programs, pages and example config.
. "$(dirname "$0")/../common.sh"
for m in "$TOP"/man/*.[58]; do
	out=$(mandoc -T lint "$m" 2>&1) || fail "mandoc: $out"
	[ -z "$out" ] || fail "mandoc: $out"
done
# Every key of the option table is documented and in the example config.
keys=$(sed -n 's/^\t{ "\([A-Za-z]*\)", T_.*/\1/p' "$TOP/common/config.c")
[ "$(echo "$keys" | wc -l)" -gt 20 ] || fail "option table not found in config.c"
for k in $keys; do
	grep -q "^\.B $k\$" "$TOP/man/unsub-milter.conf.5" ||
		fail "unsub-milter.conf(5) does not document $k"
	grep -qi "^#\{0,1\} *$k " "$TOP/conf/unsub-milter.conf" ||
		fail "conf/unsub-milter.conf does not show $k"
done
make -s -C "$TOP" install DESTDIR="$T/root" prefix=/usr sysconfdir=/etc >/dev/null
for f in usr/sbin/unsub-milter usr/sbin/unsub-httpd usr/sbin/unsubctl \
    usr/sbin/unsub-sync usr/share/man/man8/unsub-sync.8 \
    lib/systemd/system/unsub-sync.service \
    usr/share/man/man8/unsub-milter.8 usr/share/man/man8/unsub-httpd.8 \
    usr/share/man/man8/unsubctl.8 usr/share/man/man5/unsub-milter.conf.5 \
    etc/unsub-milter/unsub-milter.conf.example \
    etc/unsub-milter/templates/landing.en.html \
    lib/systemd/system/unsub-milter.service lib/systemd/system/unsub-httpd.service \
    usr/share/doc/unsub-milter/README.md \
    usr/share/doc/unsub-milter/examples/unsub-milter.conf \
    usr/share/doc/unsub-milter/examples/postfix-main.cf \
    usr/share/doc/unsub-milter/examples/opendkim.conf; do
	[ -e "$T/root/$f" ] || fail "make install did not install /$f"
done
"$T/root/usr/sbin/unsubctl" 2>/dev/null && fail "unsubctl without a verb exited 0"
echo "man pages lint-clean; make install layout: ok"
