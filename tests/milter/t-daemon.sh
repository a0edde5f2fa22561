#!/bin/sh
# unsub-milter start-up and signals: -n, refusals with a one-line reason,
# pidfile, SIGUSR1 reload keeping connections, SIGTERM clean stop.
. "$(dirname "$0")/../common.sh"
unsub_env <<EOF2
PidFile $T/run/milter.pid
EOF2
M="$B/unsub-milter"

assert_eq "$(within 30 "$M" -n -c "$CONF")" "configuration OK" "-n on a good config"
printf 'Socket unix:/x\nFoo bar\n' >"$T/bad.conf"
set +e
out=$(within 30 "$M" -n -c "$T/bad.conf" 2>&1); rc=$?
set -e
[ $rc -ne 0 ] || fail "-n on a bad config exited 0"
assert_eq "$out" "unsub-milter: $T/bad.conf:2: unknown key \"Foo\"" "-n error"

grep -v '^Unsubscribe' "$CONF" >"$T/nouri.conf"
set +e
out=$(within 30 "$M" -n -c "$T/nouri.conf" 2>&1); rc=$?
set -e
[ $rc -ne 0 ] || fail "-n accepted a config with neither URI"
assert_match "set UnsubscribeURL or UnsubscribeMailbox" "$out" "-n without URIs"

chmod 0640 "$T/keys"
set +e
out=$(within 30 "$M" -f -c "$CONF" 2>&1); rc=$?
set -e
[ $rc -ne 0 ] || fail "started with a 0640 key file"
assert_match "keys: mode 0640 is open to group or others" "$out" "key mode refusal"
chmod 0600 "$T/keys"

# refuse (exit 1, one line) on a missing or corrupt key file, an unwritable
# pidfile; for both daemons
refuse() {	# refuse WHAT PATTERN CONFIG
	for d in unsub-milter unsub-httpd; do
		set +e
		out=$(within 30 "$B/$d" -f -c "$3" 2>&1); rc=$?
		set -e
		[ $rc -ne 0 ] || fail "$d started with $1"
		assert_eq "$(printf '%s\n' "$out" | wc -l)" 1 "$d: one line for $1"
		assert_match "$2" "$out" "$d: $1"
	done
}
echo "HTTPTemplates $TOP/conf/templates" >>"$CONF"
sed "s#^KeyFile .*#KeyFile $T/nokeys#" "$CONF" >"$T/c1.conf"
refuse "a missing key file" "$T/nokeys: No such file or directory" "$T/c1.conf"
printf 'zz not a key\n' >"$T/badkeys"; chmod 0600 "$T/badkeys"
sed "s#^KeyFile .*#KeyFile $T/badkeys#" "$CONF" >"$T/c2.conf"
refuse "a corrupt key file" "$T/badkeys:1: malformed key line" "$T/c2.conf"
sed "s#^PidFile .*#PidFile $T/no/such/dir/pid#" "$CONF" >"$T/c3.conf"
refuse "an unwritable pidfile" "pidfile $T/no/such/dir/pid: No such file" "$T/c3.conf"

# a store directory the daemons' user cannot write
chmod 0555 "$T/db"
refuse "a read-only store directory" "store: database directory $T/db: Permission denied" "$CONF"
chmod 0755 "$T/db"

# started as root, both refuse to keep running as root
if [ "$(id -u)" = 0 ]; then
	grep -v '^User ' "$CONF" >"$T/c4.conf"
	refuse "no User while root" "refusing to run as root: set User in $T/c4.conf or use -u" "$T/c4.conf"
fi

sed "s#^Database .*#Database $T/missing#" "$CONF" >"$T/nodb.conf"
set +e
out=$(within 30 "$M" -f -c "$T/nodb.conf" 2>&1); rc=$?
set -e
[ $rc -ne 0 ] || fail "started with a missing store directory"
assert_match "store: .*$T/missing" "$out" "missing store refusal"

milter_start
[ -f "$T/run/milter.pid" ] || fail "no pidfile"
refused_copy "$T/run/milter.pid" "$MILTER_PID" "socket $SOCK is in use" \
    "$M" -f -c "$CONF"

ctl genkey >/dev/null
kill -USR1 "$MILTER_PID"
wait_log "$T/milter.log" "reloaded $CONF (2 keys)"
# still serving after the reload, sealing with the new key
cat >"$T/r.lua" <<'EOF2'
dofile(libdir .. "/lib.lua")
local conn = open("127.0.0.1")
message(conn, "<n@s.example>", { "<a@example.com>" }, { { "X-Unsub-List", "news" } }, "x\r\n")
local out = decode(url_token(mt.getheader(conn, "List-Unsubscribe", 0)))
mt.echo("key " .. field(out, "key"))
mt.disconnect(conn)
EOF2
# serves WHAT: the milter answers r.lua (its output in $out)
serves() {
	out=$(within 60 miltertest -D sock="unix:$SOCK" -D libdir="$TOP/tests/milter" \
	    -D ctl="$B/unsubctl -c $CONF" -s "$T/r.lua" 2>&1) || fail "$1: $out"
}
newest=$(ctl keys | tail -n 1 | cut -d' ' -f1)
serves "after reload"
assert_match "key $newest" "$out" "token sealed with the new key"

stop "$MILTER_PID" 10
[ ! -f "$T/run/milter.pid" ] || fail "pidfile left after SIGTERM"
echo "daemon start-up, reload and stop: ok"

# -u: privileges dropped after the keys are read and the socket is open;
# the store is opened as that user.
chown -R nobody "$T/db"
milter_start -u nobody
sleep 0.2
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$MILTER_PID/status")
assert_eq "$uid" "$(id -u nobody)" "uid after -u nobody"
serves "as nobody"
echo "privilege drop: ok"

# Started as that user already (systemd's User=) with User in the config:
# nothing to drop, and it serves (initgroups would fail as non-root).
stop "$MILTER_PID"
# a copy in $T: the checkout may be in a directory only root may enter
# (a clone under mktemp -d), where nobody could not run build/unsub-milter
mkdir -p "$T/bin" && cp "$B/unsub-milter" "$T/bin/"
B_BUILD=$B B=$T/bin
MILTER_WRAP="runuser -u nobody --" milter_start
B=$B_BUILD
serves "started as nobody"
echo "start as the configured user: ok"

# -n checks what start-up needs as the user the daemon will run as, and
# names the path, the reason and the fix.
stop "$MILTER_PID"
check_refuses() {	# check_refuses WHAT PATTERN CONFIG
	set +e
	out=$(within 30 "$M" -n -c "$3" 2>&1); rc=$?
	set -e
	[ $rc -ne 0 ] || fail "-n passed $1"
	assert_match "$2" "$out" "-n on $1"
}
sed "s#^Socket .*#Socket unix:$T/nodir/m.sock#" "$CONF" >"$T/n1.conf"
check_refuses "a missing socket directory" \
    "socket directory $T/nodir: No such file or directory \(create it .*install -d" "$T/n1.conf"
mkdir -p "$T/rootdir"
sed "s#^Socket .*#Socket unix:$T/rootdir/m.sock#" "$CONF" >"$T/n2.conf"
check_refuses "a socket directory only root may write" \
    "socket directory $T/rootdir: Permission denied" "$T/n2.conf"
sed "s#^Database .*#Database $T/nostore#" "$CONF" >"$T/n3.conf"
check_refuses "a missing store directory" \
    "store directory $T/nostore: No such file or directory as nobody \(install -d -o nobody" "$T/n3.conf"
chown root "$T/keys"
check_refuses "a key file the user cannot read" \
    "key file $T/keys: Permission denied as nobody \(.*chown nobody $T/keys" "$CONF"
chown nobody "$T/keys"
echo "-n checks as the target user: ok"

# -n catches what start-up would, for both daemons, each with file:line or
# the path and the reason.
n_refuses() {	# n_refuses WHAT PATTERN CONFIG
	for d in unsub-milter unsub-httpd; do
		set +e
		out=$(within 30 "$B/$d" -n -c "$3" 2>&1); rc=$?
		set -e
		[ $rc -ne 0 ] || fail "$d -n passed $1"
		assert_match "$2" "$out" "$d -n on $1"
	done
}
mkfifo "$T/fifo"
sed "s#^KeyFile .*#KeyFile $T/fifo#" "$CONF" >"$T/n4.conf"
n_refuses "a FIFO as KeyFile" "$T/fifo: not a regular file" "$T/n4.conf"
{ cat "$CONF"; echo "InternalHosts 10.0.0.0/8"; } >"$T/n5.conf"
first=$(grep -n '^InternalHosts' "$CONF" | cut -d: -f1)
n_refuses "InternalHosts given twice" \
    "$T/n5.conf:$(wc -l <"$T/n5.conf"): InternalHosts given twice \(first at $T/n5.conf:$first\)" \
    "$T/n5.conf"
printf '\357\273\277' | cat - "$CONF" >"$T/bom.conf"
assert_eq "$(within 30 "$M" -n -c "$T/bom.conf")" "configuration OK" \
    "-n on a config that starts with a UTF-8 byte order mark"
{ cat "$CONF"; echo "ProfileHeader X-Unsub-List"; } >"$T/n6.conf"
n_refuses "ProfileHeader equal to ListHeader" \
    "$T/n6.conf: ListHeader names the same header as ProfileHeader \(line [0-9]+\)" \
    "$T/n6.conf"
sed "s#^UnsubscribeMailbox .*#UnsubscribeMailbox unsub?x=1@unsub.example.com#" \
    "$CONF" >"$T/n7.conf"
n_refuses "a mailbox that breaks a mailto URI" \
    "UnsubscribeMailbox: '\\?' would have to be escaped in a mailto URI" "$T/n7.conf"
seq 1 3000 | sed 's/.*/big&@example.com,news/' >"$T/big.csv"
ctl import "$T/big.csv" >/dev/null
{ cat "$CONF"; printf 'DatabaseMapSize 65536\nDatabaseMapMax 65536\n'; } >"$T/n8.conf"
n_refuses "DatabaseMapMax below the store's size" \
    "DatabaseMapMax 65536 is below the size of $T/db/data.mdb" "$T/n8.conf"
echo "-n refuses what start-up would: ok"

# HTTPS files: a certificate and its key, checked with OpenSSL in -n and
# at start-up.
for n in 1 2; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/k$n.pem" -out "$T/c$n.pem" -subj /CN=unsub.example.com \
	    -days 2 >/dev/null 2>&1 || fail "openssl req"
done
chmod 0644 "$T"/k?.pem
tls() {	# tls CERT KEY: a config with those files
	printf 'HTTPCertificate %s\nHTTPKey %s\n' "$1" "$2" | cat "$CONF" - >"$T/tls.conf"
}
tls "$T/c1.pem" "$T/k1.pem"
assert_eq "$(within 30 "$B/unsub-httpd" -n -c "$T/tls.conf")" "configuration OK" \
    "httpd -n with a matching certificate and key"
https_refuses() {	# https_refuses WHAT PATTERN
	set +e
	out=$(within 30 "$B/unsub-httpd" -n -c "$T/tls.conf" 2>&1); rc=$?
	set -e
	[ $rc -ne 0 ] || fail "unsub-httpd -n passed $1"
	assert_match "$2" "$out" "unsub-httpd -n on $1"
}
tls "$T/c1.pem" "$T/k2.pem"
https_refuses "another certificate's key" \
    "HTTPKey $T/k2.pem is not the key of HTTPCertificate $T/c1.pem"
printf 'junk\n' >"$T/junk.pem"
tls "$T/junk.pem" "$T/k1.pem"
https_refuses "a junk certificate" "HTTPCertificate $T/junk.pem: not a PEM certificate"
tls "$T/c1.pem" "$T/c2.pem"
https_refuses "a certificate as the key" "HTTPKey $T/c2.pem: not a PEM private key"
tls "$T/fifo" "$T/k1.pem"
https_refuses "a FIFO as the certificate" "$T/fifo: not a regular file"
echo "-n checks the HTTPS certificate and key: ok"

# A daemon that should refuse to start but runs fails its test, with a
# message, instead of hanging it: a child test whose daemon does not exit.
cat >"$T/hang.sh" <<EOF2
TOP=$TOP
. "$TOP/tests/common.sh"
within 1 "$M" -f -c "$CONF" >/dev/null 2>&1 || true
EOF2
set +e
out=$(within 60 sh "$T/hang.sh" 2>&1); rc=$?
set -e
[ $rc -ne 0 ] || fail "a test whose daemon did not refuse passed"
[ $rc -ne 124 ] || fail "a test whose daemon did not refuse hung"
assert_match "TIMEOUT: .*unsub-milter -f .* still running after 1 s" "$out" \
    "the timeout's message"
echo "a wait that times out fails the test: ok"

# Without -f: the command returns once the daemon listens (exit 0), or
# exits non-zero with the daemon's reason.
set +e
out=$(within 30 "$M" -c "$T/n1.conf" 2>&1); rc=$?
set -e
[ $rc -ne 0 ] || fail "detached start without a socket directory exited 0"
assert_match "cannot listen on unix:$T/nodir/m.sock: socket directory $T/nodir: No such file or directory" \
    "$out" "detached start's reason"
rm -f "$SOCK"
within 30 "$M" -c "$CONF" >/dev/null 2>&1 || fail "detached start failed"
[ -S "$SOCK" ] || fail "detached start returned before the socket was there"
pid=$(cat "$T/run/milter.pid")
serves "detached"
kill -TERM "$pid"
gone "$pid" 10 || { timed_out "detached milter still running 10 s after SIGTERM"
	fail "detached milter did not stop"; }
echo "detached start: ok"

# User NAME:GROUP: the socket belongs to that user and group, mode
# SocketMode; SIGTERM ends the daemon within 0.5 s.
sed -e "s#^User .*#User nobody:daemon#" -e "s#^SocketMode .*#SocketMode 0660#" \
    "$CONF" >"$T/g.conf"
rm -f "$SOCK"
"$M" -f -c "$T/g.conf" >>"$T/milter.log" 2>&1 &
pid=$!; PIDS="$PIDS $pid"
i=0
while [ ! -S "$SOCK" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "no socket with User nobody:daemon: $(tail -3 "$T/milter.log")"
	sleep 0.05
done
sleep 0.2
assert_eq "$(stat -c '%U:%G %a' "$SOCK")" "nobody:daemon 660" "socket owner, group, mode"
assert_eq "$(awk '/^Gid:/ { print $2 }' "/proc/$pid/status")" "$(getent group daemon | cut -d: -f3)" "gid"
start=$(date +%s%N)
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "milter did not stop on SIGTERM"
	sleep 0.01
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "SIGTERM to exit: ${ms} ms"
[ "$ms" -lt 500 ] || fail "SIGTERM to exit took ${ms} ms, want < 500"
[ ! -e "$SOCK" ] || fail "socket left after SIGTERM"
echo "User NAME:GROUP and a quick stop: ok"

# A copy whose socket another copy has replaced (unlinked and made anew)
# leaves that socket alone when it stops.
milter_start
old=$MILTER_PID
rm -f "$SOCK"
milter_start
stop "$old" 10
[ -S "$SOCK" ] || fail "the stopping copy removed the newer copy's socket"
serves "the newer copy after the older stopped"
echo "socket removed only if ours: ok"
