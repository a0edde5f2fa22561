# lib.sh - end-to-end harness: real mail through a private Postfix on loopback.
#
# A test (sh, set -eu, run as root from the repo root) sources this file and
#   e2e_require [opendkim] [milter]  exit 77 (skip) unless root and the tools
#   e2e_setup                      temp dir E2E_DIR, EXIT/INT/TERM trap
#   e2e_sink_start                 smtp-sink on a free port, a file a message
#   e2e_opendkim_start SEL DOM     opendkim signing DOM with a fresh test key
#   e2e_milter_start CONF          build/unsub-milter -f -c CONF
#   e2e_postfix_listen NAME MILT   (optional) one more smtpd port, E2E_PORT_NAME
#   e2e_postfix_start MILTERS      a private Postfix: own config_directory,
#                                  queue, data dir and log file under E2E_DIR,
#                                  smtpd on 127.0.0.1:$E2E_SMTP_PORT, every
#                                  recipient relayed to the sink
# then sends with e2e_send / e2e_send_expect (swaks; E2E_SEND_PORT picks
# another listener), waits with e2e_sink_wait, reads e2e_relayed FILE and
# checks with e2e_assert_*, e2e_header(_count) and e2e_dkim_verify.  Every
# wait is bounded.  The trap stops Postfix with its own "postfix -c DIR
# stop", SIGTERMs every registered pid (poking milter sockets so libmilter
# notices), fails the test if anything is left running, and removes the
# temp dir unless E2E_KEEP=1.  On failure it first prints the tails of the
# logs and ends with the failure line again.
#
# The system's Postfix instance is never started or changed and its main.cf
# is not used (it need not exist): only /etc/postfix/master.cf is copied.
# Gotchas met while building this are noted where handled ("Gotcha:").
#
# Sourced after ../common.sh (the first e2e tests do that) it shares that
# temp dir ($T), stops common.sh's $PIDS too and keeps the old helper names.

# shellcheck shell=sh disable=SC2034
# (SC2034: the variables set here are for the tests that source this file)

PATH=$PATH:/usr/sbin:/sbin
# Gotcha: "python3" on PATH may be a pyenv or venv interpreter without
# Debian's python3-dkim; the system one has it.
E2E_PYTHON=${E2E_PYTHON:-/usr/bin/python3}
E2E_TOP=${E2E_TOP:-${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}}
E2E_PIDS=${E2E_PIDS:-}
E2E_PORTS=${E2E_PORTS:-}

# --- messages, assertions -------------------------------------------------

e2e_now() { date +%s.%N; }

# Seconds since $1 (a e2e_now value), two decimals.
e2e_since() { awk -v a="$1" -v b="$(e2e_now)" 'BEGIN { printf "%.2f", b - a }'; }

# Progress line with the time since e2e_setup.
e2e_log() { printf '[%6ss] %s\n' "$(e2e_since "${E2E_T0:-$(e2e_now)}")" "$*"; }

# Fail the test: message to stderr, exit 1 (the trap cleans up).  Not from
# inside $(...): that only leaves the subshell.
e2e_fail() {
	E2E_FAIL_MSG=$*
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# Skip the test (run.sh shows the last line as the reason).
e2e_skip() {
	printf '%s\n' "$*"
	exit 77
}

# e2e_assert_eq GOT WANT WHAT
e2e_assert_eq() {
	[ "$1" = "$2" ] || e2e_fail "$3: got \"$1\", want \"$2\""
}

# e2e_assert_match ERE TEXT WHAT
e2e_assert_match() {
	printf '%s\n' "$2" | grep -Eq -- "$1" ||
		e2e_fail "$3: got \"$2\", want a match for /$1/"
}

# e2e_assert_grep ERE FILE [WHAT]: some line of FILE matches.
e2e_assert_grep() {
	[ -f "$2" ] || e2e_fail "${3:-grep}: no file $2"
	grep -Eq -- "$1" "$2" ||
		e2e_fail "${3:-grep}: got no line matching /$1/ in $2:
$(head -n 40 "$2")"
}

# e2e_assert_no_grep ERE FILE [WHAT]: no line of FILE matches.
e2e_assert_no_grep() {
	[ -f "$2" ] || e2e_fail "${3:-grep}: no file $2"
	! grep -Eq -- "$1" "$2" ||
		e2e_fail "${3:-grep}: got $(grep -E -- "$1" "$2" | head -n 5), want no line matching /$1/ in $2"
}

# e2e_header_count NAME FILE: how many NAME: fields the header block of
# message FILE has (field names compared case-insensitively).
e2e_header_count() {
	awk -v n="$1" 'BEGIN { n = tolower(n) ":" }
	    /^$/ { exit }
	    tolower(substr($0, 1, length(n))) == n { c++ }
	    END { print c + 0 }' "$2"
}

# e2e_header NAME FILE: the unfolded value of each NAME: field, one a line.
e2e_header() {
	awk -v n="$1" 'BEGIN { n = tolower(n) ":" }
	    /^$/ { exit }
	    /^[ \t]/ { if (on) v = v $0; next }
	    { if (on) print v; on = 0 }
	    tolower(substr($0, 1, length(n))) == n { on = 1; v = substr($0, length(n) + 1); sub(/^[ \t]+/, "", v) }
	    END { if (on) print v }' "$2"
}

# e2e_assert_header_count WANT NAME FILE
e2e_assert_header_count() {
	_e_hc=$(e2e_header_count "$2" "$3")
	[ "$_e_hc" = "$1" ] || e2e_fail "$2 fields in $3: got $_e_hc, want $1:
$(sed '/^$/q' "$3")"
}

# --- processes --------------------------------------------------------------

# Is PID running (a zombie is not)?
e2e_alive() {
	_e_st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $_e_st in '' | Z*) return 1 ;; esac
	return 0
}

# e2e_register_pid PID [NAME [SOCKET]]: a daemon for the trap to stop.
# SOCKET (unix:PATH or inet:HOST:PORT) is a libmilter socket to poke after
# SIGTERM, see e2e_stop_pids.
e2e_register_pid() {
	E2E_PIDS="$E2E_PIDS $1"
	[ -z "${E2E_DIR:-}" ] || echo "$1 ${2:-daemon} ${3:--}" >>"$E2E_DIR/pids"
}

# e2e_daemon NAME LOG [SOCKET] -- CMD...: start CMD in the background (stdin
# /dev/null, output appended to LOG) and register it; pid in E2E_LAST_PID.
e2e_daemon() {
	_e_dn=$1 _e_dl=$2 _e_dk=-
	shift 2
	[ "$1" = -- ] || { _e_dk=$1; shift; }
	shift
	"$@" </dev/null >>"$_e_dl" 2>&1 &
	E2E_LAST_PID=$!
	e2e_register_pid "$E2E_LAST_PID" "$_e_dn" "$_e_dk"
}

# e2e__poke SOCKET: connect to a milter socket and hang up.
e2e__poke() {
	"$E2E_PYTHON" - "$1" <<'EOP'
import socket, sys
t = sys.argv[1]
try:
    if t.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(1)
        s.connect(t[5:])
    else:
        host, port = t[5:].rsplit(":", 1)
        s = socket.create_connection((host, int(port)), 1)
    s.close()
except OSError:
    pass
EOP
}

# e2e_stop_pids PID...: SIGTERM all at once, wait for them (6 s at most),
# then SIGKILL.  Gotcha: a libmilter daemon (opendkim, ours) notices a stop
# only when its accept loop wakes, which it does every 5 s (MI_CHK_TIME)
# or on a new connection; so a registered milter socket is poked while its
# daemon is still up, which brings a clean stop down to a few ms.
e2e_stop_pids() {
	for _e_sp in "$@"; do kill -TERM "$_e_sp" 2>/dev/null || true; done
	_e_end=$(($(date +%s) + 6))
	while :; do
		_e_left=""
		for _e_sp in "$@"; do
			e2e_alive "$_e_sp" || continue
			_e_left="$_e_left $_e_sp"
			_e_k=$(awk -v p="$_e_sp" '$1 == p { k = $3 } END { print k }' "$E2E_DIR/pids" 2>/dev/null)
			[ -z "$_e_k" ] || [ "$_e_k" = - ] || e2e__poke "$_e_k"
		done
		[ -n "$_e_left" ] || break
		if [ "$(date +%s)" -ge "$_e_end" ]; then
			echo "e2e: pids$_e_left ignored SIGTERM for 6s: SIGKILL" >&2
			for _e_sp in $_e_left; do kill -KILL "$_e_sp" 2>/dev/null || true; done
			break
		fi
		sleep 0.05
	done
	for _e_sp in "$@"; do wait "$_e_sp" 2>/dev/null || true; done
}

# e2e_wait SECS WHAT CMD...: poll CMD every 50 ms until it succeeds; fail
# after SECS seconds.
e2e_wait() {
	_e_ws=$1 _e_ww=$2
	shift 2
	_e_wend=$(($(date +%s) + _e_ws))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_e_wend" ] ||
			e2e_fail "timed out after ${_e_ws}s waiting for $_e_ww"
		sleep 0.05
	done
}

# e2e_wait_daemon PID NAME LOG SECS CMD...: like e2e_wait, but fail at once
# with the daemon's log if it exits first.
e2e_wait_daemon() {
	_e_wp=$1 _e_wn=$2 _e_wl=$3 _e_ws=$4
	shift 4
	_e_wend=$(($(date +%s) + _e_ws))
	until "$@" >/dev/null 2>&1; do
		e2e_alive "$_e_wp" || e2e_fail "$_e_wn exited during start-up: $(tail -n 20 "$_e_wl")"
		[ "$(date +%s)" -lt "$_e_wend" ] ||
			e2e_fail "$_e_wn not ready after ${_e_ws}s: $(tail -n 20 "$_e_wl")"
		sleep 0.05
	done
}

# --- ports ------------------------------------------------------------------

# Print a free TCP port on 127.0.0.1, not one handed out before in this test
# (the kernel picks it: parallel and repeated runs do not collide).
e2e_free_port() {
	# shellcheck disable=SC2086
	"$E2E_PYTHON" - $E2E_PORTS <<'EOP'
import socket, sys
used = set(sys.argv[1:])
for _ in range(100):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    if str(port) not in used:
        print(port)
        sys.exit(0)
sys.exit("no free port")
EOP
}

# e2e__port VAR: a free port into VAR, remembered so it is not reused.
e2e__port() {
	_e_p=$(e2e_free_port) || e2e_fail "no free TCP port on 127.0.0.1"
	E2E_PORTS="$E2E_PORTS $_e_p"
	eval "$1=\$_e_p"
}

# Is something listening on 127.0.0.1:PORT?
e2e_listening() {
	if command -v ss >/dev/null 2>&1; then
		[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
	else
		"$E2E_PYTHON" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1"
	fi
}

# --- set-up and teardown ----------------------------------------------------

# Skip (77) unless this can run: root (postfix(1) is reserved for the
# superuser), Postfix, smtp-sink, swaks, python3; "opendkim" adds opendkim,
# opendkim-genkey and python3-dkim; "milter" adds build/unsub-milter.
e2e_require() {
	[ "$(id -u)" = 0 ] || e2e_skip "e2e needs root: postfix(1) is reserved for the superuser"
	for _e_c in postfix postconf postqueue smtp-sink swaks; do
		command -v "$_e_c" >/dev/null 2>&1 || e2e_skip "e2e needs $_e_c (apt-get install postfix swaks)"
	done
	[ -x "$E2E_PYTHON" ] || e2e_skip "e2e needs $E2E_PYTHON"
	[ -f /etc/postfix/master.cf ] || e2e_skip "e2e needs /etc/postfix/master.cf to copy"
	for _e_c in "$@"; do
		case $_e_c in
		opendkim)
			for _e_o in opendkim opendkim-genkey; do
				command -v "$_e_o" >/dev/null 2>&1 ||
					e2e_skip "e2e needs $_e_o (apt-get install opendkim opendkim-tools)"
			done
			"$E2E_PYTHON" -c 'import dkim' 2>/dev/null ||
				e2e_skip "e2e needs python3-dkim for $E2E_PYTHON"
			;;
		milter)
			[ -x "${E2E_MILTER:-$E2E_TOP/build/unsub-milter}" ] ||
				e2e_skip "e2e needs ${E2E_MILTER:-build/unsub-milter} (run make)"
			;;
		*) e2e_fail "e2e_require: unknown requirement $_e_c" ;;
		esac
	done
}

# Make the temp dir (E2E_DIR) and set the trap.  Gotcha: mktemp -d makes it
# 0700; Postfix daemons (user postfix), smtp-sink (nobody) and the milters
# must reach into it, so it is made 0755.
e2e_setup() {
	[ "${E2E_UP:-0}" = 0 ] || return 0
	E2E_UP=1
	E2E_T0=$(e2e_now)
	if [ -z "${E2E_DIR:-}" ]; then
		E2E_DIR=$(mktemp -d /tmp/unsub-e2e.XXXXXX) || {
			echo "FAIL: mktemp -d /tmp/unsub-e2e.XXXXXX" >&2
			exit 1
		}
		E2E_OWN_DIR=1
	fi
	chmod 0755 "$E2E_DIR"
	E2E_SWAKS_OUT=$E2E_DIR/swaks.out
	trap 'e2e_cleanup' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# The EXIT trap: stop everything, check nothing is left, remove the temp dir.
e2e_cleanup() {
	_e_rc=$?
	set +e
	trap - EXIT INT TERM HUP
	[ "${E2E_CLEANED:-0}" = 0 ] || return 0
	E2E_CLEANED=1
	_e_t=$(e2e_now)
	[ "$_e_rc" = 0 ] || [ "$_e_rc" = 77 ] || e2e_diagnose >&2
	# common.sh's milter: poke its socket too (e2e_stop_pids)
	[ -z "${MILTER_PID:-}" ] || [ -z "${SOCK:-}" ] ||
		echo "$MILTER_PID unsub-milter unix:$SOCK" >>"$E2E_DIR/pids"
	for _e_sp in $E2E_PIDS ${PIDS:-}; do kill -TERM "$_e_sp" 2>/dev/null; done
	e2e_postfix_stop
	# shellcheck disable=SC2086
	e2e_stop_pids $E2E_PIDS ${PIDS:-}
	_e_leak=""
	for _e_sp in $E2E_PIDS ${PIDS:-}; do
		if e2e_alive "$_e_sp"; then _e_leak="$_e_leak $_e_sp"; fi
	done
	[ -z "${E2E_PF_MASTER:-}" ] || [ -z "$(e2e__pgrp "$E2E_PF_MASTER")" ] ||
		_e_leak="$_e_leak postfix:$(e2e__pgrp "$E2E_PF_MASTER" | tr '\n' ' ')"
	if [ -n "$_e_leak" ]; then
		echo "FAIL: processes left behind:$_e_leak" >&2
		[ "$_e_rc" != 0 ] || _e_rc=1
	fi
	if [ "${E2E_OWN_DIR:-0}" = 0 ] && [ -n "${T:-}" ] && command -v cleanup >/dev/null 2>&1; then
		[ "${E2E_KEEP:-0}" = 0 ] || KEEP=1
		# common.sh: removes $T unless KEEP=1; 1 if a wait timed out
		cleanup || [ "$_e_rc" != 0 ] || _e_rc=1
	elif [ "${E2E_OWN_DIR:-0}" = 1 ]; then
		if [ "${E2E_KEEP:-0}" = 1 ]; then
			echo "e2e: kept $E2E_DIR"
		else
			rm -rf "$E2E_DIR"
		fi
	fi
	if [ "$_e_rc" != 77 ]; then
		echo "e2e: teardown $(e2e_since "$_e_t")s, total $(e2e_since "$E2E_T0")s"
	fi
	# the failure once more, last, where run.sh's tail shows it
	[ -z "${E2E_FAIL_MSG:-}" ] ||
		printf 'FAIL: %s\n' "$E2E_FAIL_MSG" | sed '1!d; s/:$//' >&2
	exit "$_e_rc"
}

# Tails of every log, for a failed test.
e2e_diagnose() {
	echo "--- e2e diagnostics (E2E_KEEP=1 keeps $E2E_DIR) ---"
	if [ -n "${E2E_PF:-}" ] && [ -f "$E2E_PF_ROOT/maillog" ]; then
		echo "postfix log ($E2E_PF_ROOT/maillog), last 15 lines:"
		tail -n 15 "$E2E_PF_ROOT/maillog"
		if [ "${E2E_PF_RUNNING:-0}" = 1 ]; then
			echo "postfix queue:"
			postqueue -c "$E2E_PF" -p 2>&1 | head -n 10
		fi
	fi
	for _e_f in "$E2E_DIR/sink.log" "$E2E_DIR"/dkim/*.log "$E2E_DIR/milter.log"; do
		[ -s "$_e_f" ] || continue
		echo "$_e_f, last 5 lines:"
		tail -n 5 "$_e_f"
	done
	if [ -s "${E2E_SWAKS_OUT:-}" ]; then
		echo "last swaks transcript ($E2E_SWAKS_OUT), last 12 lines:"
		tail -n 12 "$E2E_SWAKS_OUT"
	fi
	echo "---"
}

# --- smtp-sink: the next hop ------------------------------------------------

# smtp-sink on 127.0.0.1:$E2E_SINK_PORT, one file per message transaction in
# $E2E_SINK_DIR.  Gotchas: as root smtp-sink must be told a user (-u) to
# switch to, and that user must be able to write the dump directory; a dump
# file is created at MAIL FROM and written as the data arrives (see
# e2e_sink_msgs); RSET deletes it.
e2e_sink_start() {
	E2E_SINK_DIR=$E2E_DIR/sink
	mkdir -p "$E2E_SINK_DIR"
	chown nobody "$E2E_SINK_DIR"
	e2e__port E2E_SINK_PORT
	e2e_daemon smtp-sink "$E2E_DIR/sink.log" -- smtp-sink -u nobody \
	    -h sink.test.example -d "$E2E_SINK_DIR/msg." "127.0.0.1:$E2E_SINK_PORT" 64
	E2E_SINK_PID=$E2E_LAST_PID
	e2e_wait_daemon "$E2E_SINK_PID" smtp-sink "$E2E_DIR/sink.log" 10 \
	    e2e_listening "$E2E_SINK_PORT"
	e2e_log "smtp-sink on 127.0.0.1:$E2E_SINK_PORT, messages in $E2E_SINK_DIR"
}

# Complete messages at the sink, oldest first (by time of completion).
# smtp-sink keeps a message's file open until the final "."; files it still
# has open (seen in /proc) are not complete and are left out.
e2e_sink_msgs() {
	[ -d "${E2E_SINK_DIR:-}" ] || return 0
	# shellcheck disable=SC2012 # names are smtp-sink's msg.HEX
	_e_open=$(ls -l "/proc/$E2E_SINK_PID/fd/" 2>/dev/null | sed -n 's/.* -> //p')
	# shellcheck disable=SC2012
	ls -1tr "$E2E_SINK_DIR" | while IFS= read -r _e_f; do
		case "
$_e_open
" in
		*"
$E2E_SINK_DIR/$_e_f
"*) ;;
		*) printf '%s\n' "$E2E_SINK_DIR/$_e_f" ;;
		esac
	done
}

# How many complete messages the sink holds.
e2e_sink_count() { e2e_sink_msgs | wc -l | tr -d ' '; }

# The newest complete message at the sink.
e2e_sink_last() { e2e_sink_msgs | tail -n 1; }

# e2e_sink_wait N [SECS]: wait until the sink holds at least N complete
# messages (30 s at most).
e2e_sink_wait() {
	_e_sw=$1
	_e_swend=$(($(date +%s) + ${2:-30}))
	while [ "$(e2e_sink_count)" -lt "$_e_sw" ]; do
		[ "$(date +%s)" -lt "$_e_swend" ] ||
			e2e_fail "messages at the sink after ${2:-30}s: got $(e2e_sink_count), want $_e_sw"
		sleep 0.05
	done
}

# e2e_relayed FILE: the message as Postfix sent it, without the envelope
# lines (X-Client-Addr, X-Mail-Args, X-Rcpt-Args, ...) and the Received
# field that smtp-sink puts in front.  The sink stores LF line ends.
e2e_relayed() {
	awk 'top && /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): / { next }
	    top && !rcv && /^Received: / { rcv = 1; inrcv = 1; next }
	    inrcv && /^[ \t]/ { next }
	    { top = 0; inrcv = 0; print }' top=1 "$1"
}

# e2e_sink_rcpts FILE: the envelope recipients of a sink message, one a line.
e2e_sink_rcpts() {
	sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$1"
}

# --- opendkim ---------------------------------------------------------------

# e2e_opendkim_start SELECTOR DOMAIN [unsub|default]: opendkim signing mail
# from 127.0.0.1 for DOMAIN with a fresh key (DIR/dkim/SELECTOR.private, its
# DNS record in SELECTOR.txt), on socket E2E_DKIM_SOCK (see e2e_dkim_sock).
# "unsub" (the default) adds the SignHeaders/OversignHeaders lines of
# conf/opendkim.conf, the ones our docs give; "default" keeps opendkim's own
# header list.  More opendkim.conf lines may be put in E2E_DKIM_EXTRA.
# Gotchas: opendkim refuses a config or key file under a world-writable
# directory such as /tmp ("/tmp can be read or written by other users")
# unless RequireSafeKeys is false; it runs as root without complaint (no
# UserID needed); Postfix's smtpd runs as user postfix, so the socket must
# be connectable by it: UMask 000 and a 0755 path.
e2e_opendkim_start() {
	_e_sel=$1 _e_dom=$2
	_e_dd=$E2E_DIR/dkim
	_e_conf=$_e_dd/$_e_sel.conf
	mkdir -p "$_e_dd"
	[ ! -e "$_e_conf" ] || e2e_fail "e2e_opendkim_start: selector $_e_sel already started"
	opendkim-genkey -D "$_e_dd" -d "$_e_dom" -s "$_e_sel" >"$_e_dd/$_e_sel.log" 2>&1 ||
		e2e_fail "opendkim-genkey: $(cat "$_e_dd/$_e_sel.log")"
	cat >"$_e_conf" <<EOC
# opendkim for one e2e test: signs mail from 127.0.0.1 for $_e_dom
Syslog			no
Background		no
Mode			s
Domain			$_e_dom
Selector		$_e_sel
KeyFile			$_e_dd/$_e_sel.private
Socket			local:$_e_dd/$_e_sel.sock
UMask			000
PidFile			$_e_dd/$_e_sel.pid
InternalHosts		127.0.0.1
Canonicalization	relaxed/relaxed
RequireSafeKeys		false
EOC
	case ${3:-unsub} in
	unsub) e2e__dkim_unsub_lines >>"$_e_conf" ;;
	default) ;;
	*) e2e_fail "e2e_opendkim_start: got header mode \"$3\", want unsub or default" ;;
	esac
	[ -z "${E2E_DKIM_EXTRA:-}" ] || printf '%s\n' "$E2E_DKIM_EXTRA" >>"$_e_conf"
	e2e_daemon "opendkim-$_e_sel" "$_e_dd/$_e_sel.log" "unix:$_e_dd/$_e_sel.sock" -- \
	    opendkim -f -x "$_e_conf"
	e2e_wait_daemon "$E2E_LAST_PID" "opendkim ($_e_conf)" "$_e_dd/$_e_sel.log" 10 \
	    test -S "$_e_dd/$_e_sel.sock"
	E2E_DKIM_SOCK=$_e_dd/$_e_sel.sock
	e2e_log "opendkim $_e_sel ($_e_dom, ${3:-unsub} headers) on $E2E_DKIM_SOCK"
}

# The documented opendkim lines (conf/opendkim.conf), or the same built in.
e2e__dkim_unsub_lines() {
	if grep -qi '^SignHeaders' "$E2E_TOP/conf/opendkim.conf" 2>/dev/null; then
		grep -Ev '^[ \t]*(#|$)' "$E2E_TOP/conf/opendkim.conf"
	else
		printf '%s\n' 'SignHeaders		*,+List-Unsubscribe-Post' \
		    'OversignHeaders		List-Unsubscribe,List-Unsubscribe-Post'
	fi
}

# e2e_dkim_sock SELECTOR: the socket path of that opendkim.
e2e_dkim_sock() { printf '%s\n' "$E2E_DIR/dkim/$1.sock"; }

# e2e_dkim_verify FILE [TXTFILE...]: verify every DKIM-Signature of message
# FILE offline with dkimpy, the keys coming from opendkim-genkey's TXT files
# (default: every key of this test) instead of DNS.  Prints "h=..." per
# signature (whitespace removed), the verdicts on stderr; exits 0 only if
# there is a signature and all verify.
e2e_dkim_verify() {
	_e_vf=$1
	shift
	[ $# -gt 0 ] || set -- "$E2E_DIR"/dkim/*.txt
	"$E2E_PYTHON" - "$_e_vf" "$@" <<'EOP'
import re, sys
import dkim

path, txts = sys.argv[1], sys.argv[2:]
msg = open(path, "rb").read()
# smtp-sink stores LF line ends; DKIM is defined over CRLF.
msg = re.sub(rb"\r?\n", b"\r\n", msg)

records = {}
for t in txts:
    text = open(t).read()
    label = text.split(None, 1)[0]              # SELECTOR._domainkey
    dom = re.search(r"DKIM key \S+ for (\S+)", text)
    name = label + "." + (dom.group(1) + "." if dom else "")
    records[name.lower()] = "".join(re.findall(r'"([^"]*)"', text)).encode()

def dns(name, timeout=5):
    name = (name.decode() if isinstance(name, bytes) else name).lower()
    for key, rec in records.items():
        if name == key or (key.endswith("._domainkey.") and name.startswith(key)):
            return rec
    return None

head = msg.split(b"\r\n\r\n", 1)[0]
fields = re.split(rb"\r\n(?![ \t])", head)
sigs = [f for f in fields if f.lower().startswith(b"dkim-signature:")]
if not sigs:
    print("dkim: no DKIM-Signature in " + path, file=sys.stderr)
    sys.exit(1)
ok = True
for i, field in enumerate(sigs):
    tags = {}
    for part in field.split(b":", 1)[1].split(b";"):
        k, _, v = part.partition(b"=")
        tags[k.strip().decode()] = re.sub(rb"\s+", b"", v).decode()
    print("h=" + tags.get("h", ""))
    why = ""
    try:
        good = dkim.DKIM(msg).verify(idx=i, dnsfunc=dns)
    except Exception as e:  # dkimpy raises on malformed signatures, keys
        good, why = False, " (%s)" % e
    print("dkim: signature %d d=%s s=%s: %s%s" % (i + 1, tags.get("d"), tags.get("s"),
          "pass" if good else "FAIL", why), file=sys.stderr)
    ok = ok and good
sys.exit(0 if ok else 1)
EOP
}

# --- unsub-milter -----------------------------------------------------------

# e2e_milter_start CONF: build/unsub-milter -f -c CONF (or $E2E_MILTER), log
# in DIR/milter.log, waiting for the Socket the config names.  Sets
# E2E_MILTER_PID and E2E_MILTER_SPEC, the socket in Postfix's syntax for
# smtpd_milters.  Gotcha: libmilter writes inet:PORT@HOST, Postfix wants
# inet:HOST:PORT; both take unix:/path.
e2e_milter_start() {
	_e_mb=${E2E_MILTER:-$E2E_TOP/build/unsub-milter}
	[ -x "$_e_mb" ] || e2e_fail "no milter binary $_e_mb (run make, or e2e_require milter)"
	_e_ms=$(sed -n 's/^[ \t]*[Ss][Oo][Cc][Kk][Ee][Tt][ \t][ \t]*\([^ \t]*\).*/\1/p' "$1" | tail -n 1)
	case $_e_ms in
	unix:* | local:*)
		_e_mp=${_e_ms#*:}
		rm -f "$_e_mp"
		E2E_MILTER_SPEC=unix:$_e_mp
		set -- "$1" test -S "$_e_mp"
		;;
	inet:*@*)
		_e_mport=${_e_ms#inet:}
		_e_mport=${_e_mport%%@*}
		E2E_MILTER_SPEC=inet:${_e_ms#*@}:$_e_mport
		set -- "$1" e2e_listening "$_e_mport"
		;;
	*) e2e_fail "e2e_milter_start: $1: got Socket \"$_e_ms\", want unix:PATH or inet:PORT@HOST" ;;
	esac
	_e_mc=$1
	shift
	e2e_daemon unsub-milter "$E2E_DIR/milter.log" "$E2E_MILTER_SPEC" -- "$_e_mb" -f -c "$_e_mc"
	E2E_MILTER_PID=$E2E_LAST_PID
	e2e_wait_daemon "$E2E_MILTER_PID" unsub-milter "$E2E_DIR/milter.log" 10 "$@"
	e2e_log "unsub-milter on $E2E_MILTER_SPEC"
}

# Stop the milter started by e2e_milter_start (to restart it, say).
e2e_milter_stop() {
	[ -n "${E2E_MILTER_PID:-}" ] || return 0
	e2e_stop_pids "$E2E_MILTER_PID"
	E2E_MILTER_PID=""
}

# --- the private Postfix ----------------------------------------------------

# e2e_postfix_listen NAME MILTERS (before e2e_postfix_start): one more smtpd
# listener, on port E2E_PORT_<NAME>, with its own smtpd_milters ("none":
# no milter at all).
e2e_postfix_listen() {
	case $1 in '' | *[!A-Za-z0-9_]*) e2e_fail "e2e_postfix_listen: bad name \"$1\"" ;; esac
	E2E_PF_LISTENERS="${E2E_PF_LISTENERS:-} $1"
	eval "E2E_PF_MILTERS_$1=\${2:-none}"
}

# e2e_postfix_start MILTERS: the private instance under DIR/pf:
# config_directory E2E_PF (DIR/pf/conf: main.cf, master.cf), queue/, data/,
# maillog (e2e_postfix_log); smtpd on 127.0.0.1 at
# E2E_SMTP_PORT with smtpd_milters = MILTERS; all mail relayed to the sink
# (start it first).  More main.cf lines may be put in E2E_POSTFIX_EXTRA.
#
# Gotchas:
# - "postfix -c DIR" needs no alternate_config_directories in the default
#   main.cf when run by root (only the set-gid postdrop/postqueue check that
#   list for other users), and works even with no /etc/postfix/main.cf.
# - postfix(1) writes errors to stderr only if stderr is a terminal, else to
#   syslog or maillog_file: under "make check" a failing "postfix check"
#   says nothing.  So check runs under script(1), which gives it a pty.
# - maillog_file must lie under maillog_file_prefixes (default /var,
#   /dev/stdout), or postfix fatals before logging anywhere; the postlog
#   service must be in master.cf (Debian 12's has it; added if missing).
# - queue_directory must exist (check fails "chdir ... No such file"), owned
#   by root; "postfix check" creates its subdirectories and data_directory
#   with the right owners.  Keep it out of config_directory: postfix check
#   wants everything under config_directory owned by root and warns about
#   each queue subdirectory otherwise.
# - Debian's master.cf runs smtpd and others chrooted ("y"): in a private
#   queue dir the chroot holds no milter sockets, /etc/hosts etc., so chroot
#   is turned off everywhere, except for our smtpd lines when
#   E2E_PF_SMTPD_CHROOT=y (then milter sockets must be inside the queue
#   directory, named relative to it, as on a stock Debian).  Every inet service of the copied master.cf is
#   removed so an admin's submission/smtps line cannot collide with the
#   system's Postfix; ours listen on free high ports only.
# - The default alias_maps (hash:/etc/aliases, nis:mail.aliases) logs NIS
#   warnings; no local delivery is wanted at all, so it is emptied.
e2e_postfix_start() {
	[ -n "${E2E_SINK_PORT:-}" ] || e2e_fail "e2e_postfix_start: start the sink first (e2e_sink_start)"
	E2E_PF_ROOT=$E2E_DIR/pf
	E2E_PF=$E2E_PF_ROOT/conf
	mkdir -p "$E2E_PF" "$E2E_PF_ROOT/queue"
	e2e__port E2E_SMTP_PORT
	cat >"$E2E_PF/main.cf" <<EOC
# private Postfix instance of one e2e test (tests/e2e/lib.sh)
compatibility_level = 3.6
queue_directory = $E2E_PF_ROOT/queue
data_directory = $E2E_PF_ROOT/data
mail_owner = $(postconf -dh mail_owner)
setgid_group = $(postconf -dh setgid_group)
maillog_file = $E2E_PF_ROOT/maillog
maillog_file_prefixes = $E2E_PF_ROOT
myhostname = mta.test.example
mydomain = test.example
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
# nothing is local: every recipient goes to the sink
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
local_transport = error:5.1.1 no local delivery in the e2e instance
default_transport = smtp
relayhost = [127.0.0.1]:$E2E_SINK_PORT
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_milters = $1
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 10s
milter_command_timeout = 10s
milter_content_timeout = 30s
# retry soon: a test waits seconds, not minutes
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
notify_classes =
biff = no
EOC
	[ -z "${E2E_POSTFIX_EXTRA:-}" ] || printf '%s\n' "$E2E_POSTFIX_EXTRA" >>"$E2E_PF/main.cf"
	e2e__pf_age
	cp /etc/postfix/master.cf "$E2E_PF/master.cf"
	for _e_svc in $(postconf -c "$E2E_PF" -M | awk '$2 == "inet" { print $1 }'); do
		postconf -c "$E2E_PF" -MX "$_e_svc/inet" || e2e_fail "postconf -MX $_e_svc/inet"
	done
	postconf -c "$E2E_PF" -F '*/*/chroot = n' || e2e_fail "postconf -F chroot"
	e2e__pf_inet "$E2E_SMTP_PORT" ""
	for _e_l in ${E2E_PF_LISTENERS:-}; do
		e2e__port "E2E_PORT_$_e_l"
		eval "e2e__pf_inet \"\$E2E_PORT_$_e_l\" \"\$E2E_PF_MILTERS_$_e_l\""
	done
	[ -n "$(postconf -c "$E2E_PF" -M postlog/unix-dgram)" ] ||
		postconf -c "$E2E_PF" -M 'postlog/unix-dgram = postlog unix-dgram n - n - 1 postlogd'
	e2e__postfix check
	E2E_PF_RUNNING=1
	e2e__postfix start
	E2E_PF_MASTER=$(tr -dc 0-9 <"$E2E_PF_ROOT/queue/pid/master.pid")
	_e_what="smtpd 127.0.0.1:$E2E_SMTP_PORT milters ${1:-none}"
	e2e_wait_daemon "$E2E_PF_MASTER" "postfix master" "$E2E_PF_ROOT/maillog" 20 \
	    e2e_listening "$E2E_SMTP_PORT"
	_e_m=
	for _e_l in ${E2E_PF_LISTENERS:-}; do
		eval "_e_p=\$E2E_PORT_$_e_l _e_m=\${E2E_PF_MILTERS_$_e_l:-none}"
		_e_what="$_e_what; $_e_l 127.0.0.1:$_e_p milters $_e_m"
		e2e_wait_daemon "$E2E_PF_MASTER" "postfix master" "$E2E_PF_ROOT/maillog" 20 \
		    e2e_listening "$_e_p"
	done
	e2e_log "postfix up (master $E2E_PF_MASTER, config $E2E_PF): $_e_what"
}

# Gotcha: Postfix will not read a main.cf changed within the last second
# (dict_load_file() sleeps 300 ms and rereads until it is older, to avoid a
# half-written file): every postconf, postfix check and daemon start after
# writing it would stall ~1.5 s.  So a fresh main.cf gets an old mtime.
e2e__pf_age() { touch -d '1 minute ago' "$E2E_PF/main.cf"; }

# e2e__pf_inet PORT MILTERS: an smtpd line in master.cf; MILTERS "" keeps
# main.cf's smtpd_milters, "none" turns milters off, anything else replaces
# them (-o { ... } because the value may hold commas and spaces).
e2e__pf_inet() {
	case $2 in
	'') set -- "$1" "" ;;
	none) set -- "$1" " -o smtpd_milters=" ;;
	*) set -- "$1" " -o { smtpd_milters = $2 }" ;;
	esac
	postconf -c "$E2E_PF" -M "127.0.0.1:$1/inet = 127.0.0.1:$1 inet n - ${E2E_PF_SMTPD_CHROOT:-n} - - smtpd$2" ||
		e2e_fail "postconf -M 127.0.0.1:$1/inet"
}

# e2e__postfix CMD: postfix -c E2E_PF CMD, failing with its words and log.
e2e__postfix() {
	if [ "$1" = check ] && command -v script >/dev/null 2>&1; then
		set -- script -qec "postfix -c '$E2E_PF' check" /dev/null
	else
		set -- postfix -c "$E2E_PF" "$@"
	fi
	if ! "$@" </dev/null >"$E2E_DIR/postfix-cmd.out" 2>&1; then
		e2e_fail "$*: $(tr -d '\r' <"$E2E_DIR/postfix-cmd.out")
$(tail -n 10 "$E2E_PF_ROOT/maillog" 2>/dev/null)"
	fi
	# warnings of "postfix check" go to the test log
	tr -d '\r' <"$E2E_DIR/postfix-cmd.out"
}

# Processes of Postfix's process group (master's pid), not zombies.
e2e__pgrp() {
	ps -e -o pgid=,pid=,stat=,comm= | awk -v g="$1" '$1 == g && $3 !~ /^Z/ { print $2 "(" $4 ")" }'
}

# Stop the private Postfix: "postfix -c DIR stop" (it waits for the master),
# then wait for the master's children, SIGKILL after 5 s.
e2e_postfix_stop() {
	[ "${E2E_PF_RUNNING:-0}" = 1 ] || return 0
	E2E_PF_RUNNING=0
	postfix -c "$E2E_PF" stop </dev/null >>"$E2E_DIR/postfix-cmd.out" 2>&1 || true
	[ -n "${E2E_PF_MASTER:-}" ] || return 0
	_e_pend=$(($(date +%s) + 5))
	while [ -n "$(e2e__pgrp "$E2E_PF_MASTER")" ]; do
		if [ "$(date +%s)" -ge "$_e_pend" ]; then
			echo "e2e: postfix processes left after stop: $(e2e__pgrp "$E2E_PF_MASTER" | tr '\n' ' ')SIGKILL" >&2
			kill -KILL -- "-$E2E_PF_MASTER" 2>/dev/null || true
			sleep 0.1
			break
		fi
		sleep 0.05
	done
}

# e2e_postconf 'name = value'...: change the private main.cf and reload.
# A reload is asynchronous (the master re-reads, old idle children leave
# at their convenience): when two settings must both be tested, a second
# listener (e2e_postfix_listen) is the race-free way.
e2e_postconf() {
	postconf -c "$E2E_PF" -e "$@" || e2e_fail "postconf -e $*"
	e2e__pf_age
	[ "${E2E_PF_RUNNING:-0}" = 0 ] || e2e__postfix reload >/dev/null
}

# Path of the private Postfix's log.
e2e_postfix_log() { printf '%s\n' "$E2E_PF_ROOT/maillog"; }

# e2e_postfix_wait_log ERE [SECS]: wait until the Postfix log has a match.
e2e_postfix_wait_log() {
	e2e_wait "${2:-30}" "/$1/ in $E2E_PF_ROOT/maillog" grep -Eq -- "$1" "$E2E_PF_ROOT/maillog"
}

# --- sending ----------------------------------------------------------------

# e2e_send SWAKS-ARGS...: one SMTP session with swaks to the private smtpd
# (port E2E_SEND_PORT if set, else E2E_SMTP_PORT).  The transcript is in
# E2E_SWAKS_OUT (and appended to DIR/swaks.all); returns swaks' status:
# 0 all accepted, 2 no connection, 21 banner, 23 MAIL, 24 no RCPT accepted,
# 25 DATA, 26 message refused after the data (swaks(1) EXIT CODES).
e2e_send() {
	if swaks --server "127.0.0.1:${E2E_SEND_PORT:-$E2E_SMTP_PORT}" \
	    --helo client.test.example --timeout 30 "$@" </dev/null >"$E2E_SWAKS_OUT" 2>&1; then
		_e_src=0
	else
		_e_src=$?
	fi
	{ echo "=== e2e_send (swaks exit $_e_src)"; cat "$E2E_SWAKS_OUT"; } >>"$E2E_DIR/swaks.all"
	return "$_e_src"
}

# The server's last reply before QUIT in the last transcript, without
# swaks' "<-" / "<**" marks (all its lines if multi-line).
e2e_last_reply() {
	awk '/^ *-> QUIT/ { exit }
	    /^<[-~*]+ / { l = $0; sub(/^<[-~*]+ +/, "", l)
		if (!in_reply) r = ""; in_reply = 1; r = r l "\n"; next }
	    { in_reply = 0 }
	    END { printf "%s", r }' "$E2E_SWAKS_OUT"
}

# e2e_send_expect CODE TEXT SWAKS-ARGS...: send and fail unless the last
# reply starts with CODE (an ERE: 250, 4[0-9][0-9], "550 5\.7\.1") and,
# when TEXT is not empty, matches the ERE TEXT.  A 2xx also needs swaks
# exit 0.
e2e_send_expect() {
	_e_xc=$1 _e_xt=$2
	shift 2
	if e2e_send "$@"; then _e_xrc=0; else _e_xrc=$?; fi
	_e_xr=$(e2e_last_reply)
	_e_xl=$(printf '%s\n' "$_e_xr" | tail -n 1)
	printf '%s\n' "$_e_xl" | grep -Eq -- "^($_e_xc)" ||
		e2e_fail "SMTP reply: got \"$_e_xl\" (swaks exit $_e_xrc), want /^$_e_xc/; transcript:
$(tail -n 15 "$E2E_SWAKS_OUT")"
	[ -z "$_e_xt" ] || printf '%s\n' "$_e_xr" | grep -Eq -- "$_e_xt" ||
		e2e_fail "SMTP reply text: got \"$_e_xr\", want /$_e_xt/"
	case $_e_xc in
	2*) [ "$_e_xrc" = 0 ] || e2e_fail "swaks: got exit $_e_xrc, want 0; transcript:
$(tail -n 15 "$E2E_SWAKS_OUT")" ;;
	esac
	return 0
}

# --- the first e2e tests' names ---------------------------------------------

# Sourced after ../common.sh: share its temp dir and keep its helper names.
if [ -n "${T:-}" ] && [ -d "$T" ]; then
	E2E_DIR=$T
	e2e_setup
	free_port() { e2e_free_port; }
	wait_for() { e2e_wait "$@"; }
	sink_start() { e2e_sink_start; SINK_PORT=$E2E_SINK_PORT; }
	sink_msgs() { e2e_sink_msgs; }
	sink_wait() { e2e_sink_wait "$@"; }
	opendkim_start() {
		e2e_opendkim_start test "$1"
		DKIM_DOMAIN=$1 DKIM_SOCK=$E2E_DKIM_SOCK
	}
	postfix_start() { e2e_postfix_start "$1"; SMTP_PORT=$E2E_SMTP_PORT PF=$E2E_PF; }
	postfix_stop() { e2e_postfix_stop; }
	send() { e2e_send "$@"; }
	# the last reply line before QUIT's, with swaks' mark ("<-  250 ...")
	last_reply() {
		grep -E '^<[-~*]* +[0-9]{3}' "$E2E_SWAKS_OUT" | grep -v ' 221 ' | tail -n 1
	}
	dkim_verify() { e2e_dkim_verify "$1"; }
fi
