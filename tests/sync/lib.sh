# lib.sh - for the fleet suites, sourced after ../common.sh: private
# PostgreSQL clusters (initdb and pg_ctl as postgres, unix sockets only,
# under $T/pg) and hosts, each a directory with its own config, store,
# sockets and ports, sharing one keyring, running its own unsub-sync.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ] || ! id postgres >/dev/null 2>&1; then
	echo "PostgreSQL server binaries (package postgresql) or user postgres absent"
	exit 77
fi
PGS="$T/pg"
mkdir -p "$PGS" && chown postgres "$PGS" && chmod 0755 "$PGS"
CLUSTERS=""
HOSTS_PIDS=""

# At exit, before common.sh's cleanup (which keeps its verdict on
# timeouts): stop every unsub-sync and every cluster.
fleet_stop() {
	for p in $HOSTS_PIDS; do kill -9 "$p" 2>/dev/null || true; done
	for c in $CLUSTERS; do pg_stop "$c" immediate >/dev/null 2>&1 || true; done
}
EXIT_FIRST="$EXIT_FIRST fleet_stop"

pgrun() { runuser -u postgres -- "$@"; }

# pg_init NAME PORT: a new cluster (trust auth on its unix socket only).
pg_init() {
	pgrun "$PGBIN/initdb" -A trust -U postgres -D "$PGS/$1" >"$T/initdb-$1.log" 2>&1 ||
	    fail "initdb: $(cat "$T/initdb-$1.log")"
	pg_conf "$1" "$2"
}

# pg_conf NAME PORT: listen on $PGS/.s.PGSQL.PORT only; small and quick.
pg_conf() {
	cat >>"$PGS/$1/postgresql.conf" <<EOC
port = $2
listen_addresses = ''
unix_socket_directories = '$PGS'
shared_buffers = 32MB
max_connections = 40
wal_level = replica
max_wal_senders = 4
EOC
	CLUSTERS="$CLUSTERS $1"
}

pg_start() {
	pgrun "$PGBIN/pg_ctl" -D "$PGS/$1" -l "$PGS/$1.log" -w -t 60 start >/dev/null ||
	    fail "pg_ctl start $1: $(tail -n 20 "$PGS/$1.log")"
}

# pg_stop NAME [MODE]
pg_stop() {
	pgrun "$PGBIN/pg_ctl" -D "$PGS/$1" -m "${2:-fast}" -w -t 60 stop
}

# psql_q PORT SQL: one value
psql_q() {
	pgrun "$PGBIN/psql" -h "$PGS" -p "$1" -U postgres -d postgres -XAtqc "$2"
}

# host_env NAME CONNINFO [more config lines on stdin]: a host's directory
# $T/h/NAME with config $T/h/NAME/conf and a copy of the first host's
# keyring; prints nothing.
host_env() {
	h="$T/h/$1"
	mkdir -p "$h/db" "$h/run"
	hp=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	cat >"$h/conf" <<EOC
User nobody
Socket unix:$h/run/milter.sock
SocketMode 0666
KeyFile $T/keys
Database $h/db
UnsubscribeMailbox unsubscribe@unsub.example.com
UnsubscribeURL https://unsub.example.com/u/
HTTPListen 127.0.0.1:$hp
HTTPTemplates $TOP/conf/templates
SyncDatabase $2
SyncHostName $1
EOC
	[ -t 0 ] || cat >>"$h/conf"
	[ -f "$T/keys" ] || { "$B/unsubctl" -c "$h/conf" genkey >/dev/null; chown nobody "$T/keys"; }
	echo "$hp" >"$h/port"
	chown nobody "$h/db" "$h/run"
}

hctl() { n=$1; shift; "$B/unsubctl" -c "$T/h/$n/conf" "$@"; }

# sync_start NAME: unsub-sync for that host, in the background.
sync_start() {
	"$B/unsub-sync" -f -c "$T/h/$1/conf" >>"$T/h/$1/sync.log" 2>&1 &
	echo $! >"$T/h/$1/sync.pid"
	HOSTS_PIDS="$HOSTS_PIDS $!"
}

sync_kill() {
	kill "-${2:-TERM}" "$(cat "$T/h/$1/sync.pid")" 2>/dev/null || true
	wait "$(cat "$T/h/$1/sync.pid")" 2>/dev/null || true
}

# suppressed_on HOST ADDRESS [LIST]
suppressed_on() {
	hctl "$1" status "$2" --json | grep -q "\"suppressed\": *true" || return 1
	[ -z "${3:-}" ] || hctl "$1" status "$2" --json | grep -q "\"$3\"\|\"\\*\""
}

# not_suppressed_on HOST ADDRESS
not_suppressed_on() { ! suppressed_on "$@"; }

# milter_on HOST: that host's unsub-milter, waiting for its socket.
milter_on() {
	"$B/unsub-milter" -f -c "$T/h/$1/conf" >>"$T/h/$1/milter.log" 2>&1 &
	HOSTS_PIDS="$HOSTS_PIDS $!"
	wait_until 10 "milter on $1" test -S "$T/h/$1/run/milter.sock"
}

# mail HOST MODE RCPT WANT [TEXT]: one message through HOST's milter
# (mail.lua).
mail() {
	miltertest -D sock="unix:$T/h/$1/run/milter.sock" \
	    -D libdir="$TOP/tests/milter" -D mode="$2" -D rcpt="$3" \
	    -D want="$4" -D text="${5:-}" -D script="$TOP/tests/sync/mail.lua" \
	    -s "$TOP/tests/milter/wrap.lua" >"$T/mail.out" 2>&1 ||
	    fail "mail via $1 ($2 to $3, want $4): $(cat "$T/mail.out")"
}

# everywhere HOSTS ADDRESS LIST: suppressed on each host within 20 s.
everywhere() {
	for h in $1; do
		wait_until 20 "$2 suppressed for $3 on $h" suppressed_on "$h" "$2" "$3"
	done
}
