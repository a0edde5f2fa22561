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
# Every curl of the suites gives up after 30 s: a server that accepts and
# never answers fails the test instead of hanging it.
printf 'max-time = 30\n' >"$T/.curlrc"
export CURL_HOME="$T"
PIDS=""

# Every wait in the suites is bounded: a timeout is a failure, said on
# stderr and noted in $T/timeouts, which fails the test at exit even when
# the timeout happened in a subshell ($(...), a background client).
timed_out() {
	echo "TIMEOUT: $*" | tee -a "$T/timeouts" >&2
}

# Stop what the test started (SIGKILL after 5 s) and remove the temp dir
# (kept if KEEP=1); returns 1 if any wait timed out.
cleanup() {
	_c_rc=0
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do
		gone "$p" 5 || { kill -KILL "$p" 2>/dev/null || true
			timed_out "pid $p ignored SIGTERM for 5 s at exit"; }
		wait "$p" 2>/dev/null || true
	done
	if [ -s "$T/timeouts" ]; then
		echo "FAIL: timed out: $(cat "$T/timeouts")" >&2
		_c_rc=1
	fi
	[ "${KEEP:-0}" = 1 ] && echo "kept $T" || rm -rf "$T"
	return $_c_rc
}

# Functions a suite's library adds to stop what it started (servers of
# its own) before cleanup, without a trap of its own that would lose
# on_exit's verdict.
EXIT_FIRST=""

# The EXIT trap: a test whose waits timed out fails.
on_exit() {
	_x_rc=$?
	trap - EXIT INT TERM
	for _x_f in $EXIT_FIRST; do "$_x_f"; done
	cleanup || [ "$_x_rc" != 0 ] || _x_rc=1
	exit "$_x_rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# gone PID SECS: 0 once PID has exited, 1 if it is still there after SECS.
gone() {
	_g_n=$(($2 * 20))
	while kill -0 "$1" 2>/dev/null; do
		_g_n=$((_g_n - 1)); [ $_g_n -gt 0 ] || return 1
		sleep 0.05
	done
}

# reap PID [SECS]: wait for a child that is stopping, at most SECS (5)
# seconds (then SIGKILL and fail); its exit status in $reap_rc.
reap() {
	gone "$1" "${2:-5}" || { kill -KILL "$1" 2>/dev/null || true
		timed_out "pid $1 still running after ${2:-5} s"
		fail "pid $1 did not stop"; }
	reap_rc=0
	wait "$1" 2>/dev/null || reap_rc=$?
}

# stop PID [SECS]: SIGTERM, then reap it.
stop() {
	kill -TERM "$1" 2>/dev/null || true
	reap "$@"
}

# within SECS CMD...: run a program that should exit by itself (a daemon
# that must refuse to start, -n, a client); SIGKILL after SECS seconds and
# a timeout is a failure.  Returns the program's status.
within() {
	_w_s=$1
	shift
	_w_rc=0
	timeout -k 2 "$_w_s" "$@" || _w_rc=$?
	case $_w_rc in
	124|137) timed_out "$* still running after ${_w_s} s" ;;
	esac
	return $_w_rc
}

# Write the test config and a key.  Lines from stdin are appended; a key
# they set replaces the default line (a key given twice is an error).
unsub_env() {
	mkdir -p "$T/db" "$T/run"
	: >"$T/extra.conf"
	[ -t 0 ] || cat >"$T/extra.conf"
	awk -v extra="$T/extra.conf" 'BEGIN {
		while ((getline l <extra) > 0)
			if (split(l, f) > 0 && f[1] !~ /^#/) k[tolower(f[1])] = 1
	} !(tolower($1) in k)' >"$CONF" <<EOC
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
	cat "$T/extra.conf" >>"$CONF"
	"$B/unsubctl" -c "$CONF" genkey >/dev/null
	# the daemons run as nobody: their store, keys, socket and pidfile
	chown nobody "$T/db" "$T/run" "$T/keys"
}

ctl() { "$B/unsubctl" -c "$CONF" "$@"; }

# milter_start [OPTION...]: start the milter in the foreground (background
# job) with these extra options, under $MILTER_WRAP if set (e.g.
# "runuser -u nobody --"), and wait for its socket.
milter_start() {
	rm -f "$SOCK"
	${MILTER_WRAP:-} "$B/unsub-milter" -f -c "$CONF" "$@" >>"$T/milter.log" 2>&1 &
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

# wait_until SECONDS WHAT CMD...: run CMD every 0.1 s until it succeeds.
wait_until() {
	secs=$1 what=$2
	shift 2
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt $((secs * 10)) ] || fail "after ${secs}s: $what"
		sleep 0.1
	done
}

# store_fill USER DOMAIN LIST: fill a store held at DatabaseMapMax until
# no record for USER@DOMAIN fits.  An import fills the map; then the last
# free pages around that key are taken (a change that needs no new page
# can still be written into a full map), stopping after 5 failures in a
# row.  The neighbours are USER@DOMAIN-less-its-last-character-and-N.net
# (before the key) and USER@DOMAINN.net (after it); then records of the
# same sizes as the key's right before it.
store_fill() {
	seq 1 20000 | sed "s/.*/filler&@example.com,$3/" >"$T/fill.csv"
	set +e; ctl import "$T/fill.csv" >"$T/fill.out" 2>&1; rc=$?; set -e
	assert_eq "$rc" 3 "import into a store at DatabaseMapMax"
	assert_match "map full" "$(cat "$T/fill.out")" "import error names the cause"
	i=0 fails=0
	while [ $fails -lt 5 ]; do
		[ $((i % 2)) = 0 ] && a="$1@${2%?}$i.net" || a="$1@$2$i.net"
		if ctl add "$a" --list "$3" >/dev/null 2>&1; then
			fails=0
		else
			fails=$((fails + 1))
		fi
		i=$((i + 1)); [ $i -lt 5000 ] || fail "the store never filled up"
	done
	# Each change also writes its address into the index of events and a
	# merge record beside its scope: fill what is left right before the
	# key, with USER@DOMAIN-with-its-last-character-less-one (as long as
	# USER@DOMAIN) under scopes as long as LIST, until 5 in a row fail.
	last=${2#"${2%?}"}
	prev=$(printf "\\$(printf '%03o' $(($(printf '%d' "'$last") - 1)))")
	i=0 fails=0
	while [ $fails -lt 5 ] && [ $i -lt 100 ]; do
		if ctl add "$1@${2%?}$prev" --list "${3%??}$((i / 10))$((i % 10))" \
		    >/dev/null 2>&1; then
			fails=0
		else
			fails=$((fails + 1))
		fi
		i=$((i + 1))
	done
}

# refused_copy PIDFILE PID PATTERN CMD...: a second copy of a running
# daemon exits non-zero with a line matching PATTERN and leaves the
# running one's pidfile alone.
refused_copy() {
	pf=$1 pid=$2 pat=$3
	shift 3
	assert_eq "$(cat "$pf")" "$pid" "pidfile"
	set +e
	out=$(within 30 "$@" 2>&1); rc=$?
	set -e
	[ $rc -ne 0 ] || fail "a second copy of $1 started"
	assert_match "$pat" "$out" "second copy refused"
	assert_eq "$(cat "$pf")" "$pid" "pidfile kept by the refused second copy"
}

# wait_log FILE TEXT: until a daemon's log has a line with TEXT (5 s).
wait_log() {
	i=0
	until grep -q "$2" "$1"; do
		i=$((i + 1)); [ $i -lt 100 ] || fail "no \"$2\" logged: $(cat "$1")"
		sleep 0.05
	done
}

# assert_eq GOT WANT WHAT
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: got \"$1\", want \"$2\""
}

# assert_match PATTERN TEXT WHAT (grep -E)
assert_match() {
	printf '%s\n' "$2" | grep -Eq -- "$1" || fail "$3: \"$2\" does not match /$1/"
}
