#!/bin/sh
# A primary with a synchronous standby; three hosts write unsubscribes
# without pause while the primary is killed (pg_ctl stop -m immediate) and
# the standby promoted.  libpq's multi-host conninfo with
# target_session_attrs=read-write finds the new primary, and every
# acknowledged unsubscribe (unsubctl exit 0) ends up on every host and
# in PostgreSQL.
. "$(dirname "$0")/../common.sh"
. "$(dirname "$0")/lib.sh"

pg_init p 5432
pg_start p
pgrun "$PGBIN/pg_basebackup" -h "$PGS" -p 5432 -U postgres -D "$PGS/s" -R \
    >"$T/basebackup.log" 2>&1 || fail "pg_basebackup: $(cat "$T/basebackup.log")"
pg_conf s 5433
echo "primary_conninfo = 'host=$PGS port=5432 user=postgres application_name=s'" \
    >>"$PGS/s/postgresql.auto.conf"
pg_start s
psql_q 5432 "alter system set synchronous_standby_names = 's'" >/dev/null
psql_q 5432 "select pg_reload_conf()" >/dev/null
wait_until 30 "s is a synchronous standby" sh -c \
    "runuser -u postgres -- '$PGBIN/psql' -h '$PGS' -p 5432 -U postgres -XAtqc \"select sync_state from pg_stat_replication\" | grep -qx sync"

DB="host=$PGS,$PGS port=5432,5433 user=postgres dbname=postgres target_session_attrs=read-write connect_timeout=2"
for h in a b c; do host_env "$h" "$DB" </dev/null; done
hctl a sync init >/dev/null
for h in a b c; do sync_start "$h"; done

# load: each host adds addresses one by one; each acknowledged is listed
load() {
	i=0
	while [ ! -e "$T/stop" ]; do
		i=$((i + 1))
		if hctl "$1" add "load-$1-$i@example.com" >/dev/null 2>&1; then
			echo "load-$1-$i@example.com" >>"$T/acked-$1"
		fi
		sleep 0.01
	done
}
loads=""
for h in a b c; do load "$h" & loads="$loads $!"; done
sleep 2
pg_stop p immediate >/dev/null
pgrun "$PGBIN/pg_ctl" -D "$PGS/s" -w -t 60 promote >/dev/null || fail "promote"
sleep 2
touch "$T/stop"
# shellcheck disable=SC2086
wait $loads
cat "$T"/acked-* >"$T/acked"
n=$(wc -l <"$T/acked")
[ "$n" -gt 30 ] || fail "only $n unsubscribes acknowledged under load"
for h in a b c; do
	wait_until 60 "every acknowledged unsubscribe on $h" sh -c \
	    "'$B/unsubctl' -c '$T/h/$h/conf' list | awk '{print \$1}' | sort >'$T/have-$h' && [ -z \"\$(sort '$T/acked' | comm -23 - '$T/have-$h')\" ]"
done
assert_eq "$(psql_q 5433 "select count(distinct address) from unsub_event where address like 'load-%'")" \
    "$(sort -u "$T/acked" | wc -l | tr -d ' ')" "every acknowledged unsubscribe in the promoted PostgreSQL"
grep -h "retrying" "$T"/h/*/sync.log | head -n 3
echo "$n acknowledged, all on every host"
