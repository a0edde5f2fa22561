#!/bin/sh
# The fleet's figures (make bench, after the single-host ones): four hosts
# on a private PostgreSQL (tests/sync/lib.sh).  Propagation from
# acknowledgement to enforced on every other host; the suppression check's
# percentiles on a host while its mirror applies 5000 events/s; shipping
# events/s; bootstrap of FLEET_BOOT_N addresses (default 1M) by a new host
# alone on the machine (every other unsub-sync stopped: on 2 cores, four
# hosts following the same million events would be timed, not one).
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
. "$TOP/tests/common.sh"
. "$TOP/tests/sync/lib.sh"
N=${FLEET_BOOT_N:-1000000}

pg_init p 5432
echo "fsync = on" >>"$PGS/p/postgresql.conf"
pg_start p
DB="host=$PGS port=5432 user=postgres dbname=postgres"
for h in a b c d; do host_env "$h" "$DB" <<EOC
LogLevel warning
EOC
done
hctl a sync init >/dev/null
for h in a b c d; do sync_start "$h"; done
wait_until 30 "d bootstrapped" sh -c "'$B/unsubctl' -c '$T/h/d/conf' sync status --json | grep -q '\"bootstrapped\":true'"

for rate in 100 1000; do
	"$B/bench/fleet" prop $((rate * 5)) "$rate" a "$T"/h/a/db "$T"/h/b/db \
	    "$T"/h/c/db "$T"/h/d/db
done

# the check on d while its mirror applies 5000 events/s recorded on a
# (b and c stopped: the machine's two cores are a's, d's and PostgreSQL's)
sync_kill b; sync_kill c
"$B/bench/fleet" check "$T/h/d/db" 5 prop5000- 25000 &
cp=$!
"$B/bench/fleet" prop 25000 5000 a "$T"/h/a/db "$T"/h/d/db >/dev/null
wait $cp

# shipping: 50000 events imported on a while its unsub-sync is stopped
seq 1 50000 | sed 's/.*/ship&@bench.example,news/' >"$T/ship.csv"
sync_kill a
hctl a import "$T/ship.csv" >/dev/null
t0=$(date +%s.%N)
sync_start a
wait_until 300 "a's outbox shipped" sh -c "[ \$(runuser -u postgres -- '$PGBIN/psql' -h '$PGS' -U postgres -XAtqc \"select count(*) from unsub_event where address like 'ship%'\") = 50000 ]"
t1=$(date +%s.%N)
echo "shipping: 50000 events in $(awk "BEGIN{printf \"%.2f\", $t1-$t0}") s," \
    "$(awk "BEGIN{printf \"%.0f\", 50000/($t1-$t0)}") events/s (from start, connect included)"

# bootstrap: N unsubscribes straight into PostgreSQL, then a new host
sync_kill a; sync_kill d
psql_q 5432 "insert into unsub_event (uid, host, time, kind, action, address, scope, source, detail)
    select decode(lpad(to_hex(extract(epoch from now())::bigint * 1000000 + i), 16, '0')
            || substr(md5('boot' || i), 1, 16), 'hex'), 'elsewhere',
        extract(epoch from now())::bigint * 1000000 + i, 'change', 'unsubscribe',
        'boot' || i || '@bench.example', 'news', 'import', ''
    from generate_series(0, $N - 1) i" >/dev/null
host_env e "$DB" </dev/null
"$B/bench/fleet" check "$T/h/e/db" 0.01 boot 1 >/dev/null	# the store exists
chown -R nobody "$T/h/e/db"
t0=$(date +%s.%N)
sync_start e
wait_until 3600 "e bootstrapped" sh -c "'$B/unsubctl' -c '$T/h/e/conf' sync status --json | grep -q '\"bootstrapped\":true'"
t1=$(date +%s.%N)
echo "bootstrap of a new host from $(psql_q 5432 "select count(*) from unsub_event") events ($N addresses):" \
    "$(awk "BEGIN{printf \"%.1f\", $t1-$t0}") s;" \
    "store $(($(stat -c %s "$T/h/e/db/data.mdb") / N)) bytes per address"
