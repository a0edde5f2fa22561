# common.sh - sourced by the script suites: a private unsub environment
# (config, keyring, store) under a temp dir, and small assertions.
# Sets T (temp dir), CONF, CTL (unsubctl with -c CONF), SOCK.
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B="$TOP/build"
T=$(mktemp -d /tmp/unsub-t.XXXXXX)
chmod 0755 "$T"	# daemons under other users (postfix, nobody) reach into it
CONF="$T/unsub.conf"
SOCK="$T/run/milter.sock"	# run/ belongs to the daemons' user
PIDS=""

# Stop what the test started and remove the temp dir (kept if KEEP=1).
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	[ "${KEEP:-0}" = 1 ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT INT TERM

# Write the test config (extra lines from stdin are appended) and a key.
unsub_env() {
	mkdir -p "$T/db" "$T/run"
	cat >"$CONF" <<EOC
User nobody
Socket unix:$SOCK
SocketMode 0666
KeyFile $T/keys
Database $T/db
UnsubscribeMailbox unsubscribe@unsub.example.com
UnsubscribeURL https://unsub.example.com/u/
InternalHosts 127.0.0.1, ::1
HTTPListen 127.0.0.1:0
EOC
	[ -t 0 ] || cat >>"$CONF"
	"$B/unsubctl" -c "$CONF" genkey >/dev/null
	# the daemons run as nobody: their store, keys, socket and pidfile
	chown nobody "$T/db" "$T/run" "$T/keys"
}

ctl() { "$B/unsubctl" -c "$CONF" "$@"; }

# Start the milter in the foreground (background job) and wait for its socket.
milter_start() {
	rm -f "$SOCK"
	"$B/unsub-milter" -f -c "$CONF" >>"$T/milter.log" 2>&1 &
	MILTER_PID=$!
	PIDS="$PIDS $MILTER_PID"
	i=0
	while [ ! -S "$SOCK" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "milter did not open $SOCK: $(cat "$T/milter.log")"
		sleep 0.05
	done
}

fail() { echo "FAIL: $*" >&2; exit 1; }

# assert_eq GOT WANT WHAT
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: got \"$1\", want \"$2\""
}

# assert_match PATTERN TEXT WHAT (grep -E)
assert_match() {
	printf '%s\n' "$2" | grep -Eq -- "$1" || fail "$3: \"$2\" does not match /$1/"
}
