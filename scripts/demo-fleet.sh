#!/bin/sh
# make demo-fleet: two hosts, one PostgreSQL, all on this machine.  Host
# "web" records a one-click unsubscribe; its unsub-sync ships it, host
# "relay"'s applies it, and relay's milter refuses the next list mail to
# that reader.  Everything it starts is stopped and removed at the end.
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
. "$TOP/tests/common.sh"
. "$TOP/tests/sync/lib.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "A private PostgreSQL cluster on a unix socket under $PGS"
pg_init p 5432
pg_start p
DB="host=$PGS port=5432 user=postgres dbname=postgres"
for h in web relay; do host_env "$h" "$DB" </dev/null; done
hctl web sync init

say "Two hosts, web and relay, each with its own store and unsub-sync"
for h in web relay; do sync_start "$h"; done
milter_on relay
"$B/unsub-httpd" -f -c "$T/h/web/conf" >>"$T/h/web/httpd.log" 2>&1 &
HOSTS_PIDS="$HOSTS_PIDS $!"
port=$(cat "$T/h/web/port")
wait_until 10 "unsub-httpd on web" curl -sf "http://127.0.0.1:$port/healthz"

say "1. Ann clicks one-click unsubscribe; web's unsub-httpd records it"
tok=$(hctl web token ann@example.com --list news | sed -n 's#.*/u/\([A-Za-z0-9_-]*\)>.*#\1#p')
curl -s -o /dev/null -w 'POST /u/...: HTTP %{http_code}\n' \
    -d List-Unsubscribe=One-Click "http://127.0.0.1:$port/u/$tok"

say "2. relay learns of it through PostgreSQL"
wait_until 10 "relay knows" suppressed_on relay ann@example.com news
hctl relay status ann@example.com
hctl relay history ann@example.com
psql_q 5432 "select host, kind, coalesce(action, encode(ref, 'hex')), address, scope, source from unsub_event order by xid"

say "3. The next newsletter to Ann through relay's milter is refused"
mail relay list ann@example.com reject
echo "550 5.7.1 recipient has unsubscribed from this list"
hctl relay sync status

say "Done; stopping PostgreSQL and every daemon, removing $T"
