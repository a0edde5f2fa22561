#!/bin/sh
# Many hosts through a real PostgreSQL: unsubscribes on each entry point
# of one host (unsubctl add, unsub-httpd one-click, a milter mailto reply
# by a reference minted on another host) enforced on the others;
# the list registry (set and remove, each reaching the others) and an
# exception to all lists made on one host, held and ended on another;
# PostgreSQL stopped and restarted with nothing lost; kill -9 of
# unsub-sync mid-batch; a new host bootstraps (tempfailing list mail until
# then, and again when stale); clock skew; -n and run-time errors; a
# store from before the fleet carried into the outbox once.
. "$(dirname "$0")/../common.sh"
. "$(dirname "$0")/lib.sh"

pg_init p 5432
pg_start p
DB="host=$PGS port=5432 user=postgres dbname=postgres"
MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host_env a "$DB" <<EOC
SyncMetricsListen 127.0.0.1:$MPORT
EOC
for h in b c; do host_env "$h" "$DB" </dev/null; done

# -n: unset, malformed, good; sync init twice.
sed '/^SyncDatabase/d' "$T/h/a/conf" >"$T/unset.conf"
set +e
out=$("$B/unsub-sync" -n -c "$T/unset.conf" 2>&1); rc=$?
set -e
assert_eq "$rc" 1 "-n without SyncDatabase"
assert_match "neither SyncDatabase nor WebhookURL is set" "$out" "-n says SyncDatabase is unset"
sed 's/^SyncDatabase .*/SyncDatabase host=x nonsense/' "$T/h/a/conf" >"$T/bad.conf"
set +e
out=$("$B/unsub-sync" -n -c "$T/bad.conf" 2>&1); rc=$?
set -e
assert_eq "$rc" 1 "-n with a malformed SyncDatabase"
assert_match "SyncDatabase: missing \"=\" after \"nonsense\"" "$out" "-n quotes libpq"
assert_match "configuration OK" "$("$B/unsub-sync" -n -c "$T/h/a/conf")" "-n good"
assert_match "schema version 2 ready" "$(hctl a sync init)" "sync init"
assert_match "schema version 2 ready" "$(hctl a sync init 2>&1)" "sync init again"

# a wrong database at run time: logged, retried, still running
host_env wrong "host=$PGS port=5432 user=postgres dbname=nosuchdb" </dev/null
sync_start wrong
wait_until 20 "the wrong database logged" grep -q 'database "nosuchdb" does not exist; retrying in' "$T/h/wrong/sync.log"
kill -0 "$(cat "$T/h/wrong/sync.pid")" || fail "unsub-sync stopped on a wrong database"
sync_kill wrong

for h in a b c; do sync_start "$h"; done
wait_until 20 "b bootstrapped" sh -c "'$B/unsubctl' -c '$T/h/b/conf' sync status --json | grep -q '\"bootstrapped\":true'"

# 1. unsubctl add on a
hctl a add add@example.com --list news >/dev/null
everywhere "b c" add@example.com news

# /metrics on a
wait_until 10 "a's metrics" sh -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -q '^unsub_sync_shipped_total 1$'"
m=$(curl -sf "http://127.0.0.1:$MPORT/metrics")
assert_match "unsub_sync_outbox_events 0" "$m" "metrics: outbox"
assert_match "unsub_sync_connected 1" "$m" "metrics: connected"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")" 404 "metrics: other paths"

# 2. unsub-httpd one-click on a
"$B/unsub-httpd" -f -c "$T/h/a/conf" >>"$T/h/a/httpd.log" 2>&1 &
HOSTS_PIDS="$HOSTS_PIDS $!"
port=$(cat "$T/h/a/port")
wait_until 10 "unsub-httpd on a" curl -sf "http://127.0.0.1:$port/healthz"
tok=$(hctl a token click@example.com --list news | sed -n 's#.*/u/\([A-Za-z0-9_-]*\)>.*#\1#p')
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -d List-Unsubscribe=One-Click "http://127.0.0.1:$port/u/$tok")" 200 "one-click on a"
everywhere "b c" click@example.com news

# 3. a reference minted on c resolves on b; the reply at b's milter
# records it everywhere
lu=$(hctl c token ref@example.com --list news)
rcpt=$(echo "$lu" | sed -n 's#.*<mailto:\([^?>]*\).*#\1#p')
wait_until 20 "c's reference on b" hctl b decode "<mailto:$rcpt>"
milter_on b
mail b mailto "$rcpt" discard
everywhere "a c" ref@example.com news
assert_match '"host":"b"' "$(hctl c history ref@example.com --json)" "history names the host"

# 3b. the list registry: set on a reaches b and c, a remove on b reaches
# a as a tombstone (unsub_list in PostgreSQL too); an exception to all
# lists made on a holds on b, and all lists again on b ends it on a
# ctl_json HOST PATTERN VERB...: the verb's --json output matches
ctl_json() { ch=$1 cp=$2; shift 2; "$B/unsubctl" -c "$T/h/$ch/conf" "$@" --json 2>/dev/null | grep -q "$cp"; }
hctl a lists set news --title T >/dev/null
for h in b c; do
	wait_until 20 "a's list on $h" ctl_json "$h" '"name":"news","title":"T"' lists
done
hctl b lists remove news >/dev/null
for h in a c; do
	wait_until 20 "b's remove on $h" sh -c "! '$B/unsubctl' -c '$T/h/$h/conf' lists --json | grep -q news"
done
assert_eq "$(psql_q 5432 "select removed from unsub_list where name = 'news'")" t "unsub_list has the tombstone"
# the registry computed from the events alone, as unsub-sync(8) says
reg=$(psql_q 5432 "select name, title, description from
    (select distinct on (scope) scope as name, action, title, description
     from unsub_event where kind = 'list' order by scope, time desc, uid desc) as latest
    where action = 'set'") || fail "unsub-sync(8)'s registry query: $reg"
assert_eq "$reg" "" "the registry from the events: news removed"
assert_eq "$(hctl c events | grep -c '  list-\(set\|remove\)  ')" 2 "c's feed has both registry events once"
hctl a add x@example.com >/dev/null
hctl a resubscribe x@example.com --list weekly --by admin >/dev/null
wait_until 20 "a's exception on b" ctl_json b '"except":\["weekly"\]' status x@example.com
suppressed_on b x@example.com '*' || fail "b lost the unsubscribe from all"
hctl b add x@example.com >/dev/null
wait_until 20 "b's unsubscribe from all ends a's exception" ctl_json a '"scopes":\["\*"\],"except":\[\]' status x@example.com

# 4. PostgreSQL down: hosts record and enforce locally, then drain
pg_stop p fast >/dev/null
hctl a add down-a@example.com >/dev/null
hctl b add down-b@example.com --list news >/dev/null
suppressed_on a down-a@example.com || fail "a does not enforce its own while PostgreSQL is down"
wait_until 20 "a's unsub-sync says it retries" grep -q "retrying in" "$T/h/a/sync.log"
kill -0 "$(cat "$T/h/a/sync.pid")" || fail "unsub-sync died while PostgreSQL was down"
assert_match '"outbox":1' "$(hctl a sync status --json)" "a's outbox holds its event"
pg_start p
everywhere "b c" down-a@example.com x
everywhere "a c" down-b@example.com news
wait_until 20 "a's outbox drained" sh -c "'$B/unsubctl' -c '$T/h/a/conf' sync status --json | grep -q '\"outbox\":0'"

# 5. kill -9 of unsub-sync mid-batch: nothing lost, nothing twice
seq 1 3000 | sed 's/.*/bulk&@example.com,news/' >"$T/bulk.csv"
sync_kill a KILL
hctl a import "$T/bulk.csv" >/dev/null
sync_start a
sleep 0.3
sync_kill a KILL
sync_start a
wait_until 60 "3000 imported on a reach c" sh -c "[ \$('$B/unsubctl' -c '$T/h/c/conf' list --list news | grep -c '^bulk') = 3000 ]"
assert_eq "$(psql_q 5432 "select count(*) from unsub_event where address like 'bulk%'")" 3000 "each bulk event once in PostgreSQL"
assert_eq "$(hctl c events | grep -c '  bulk')" 3000 "each bulk event once in c's feed"

# 6. clock skew: a blind resubscribe from a host an hour behind, and one
# within the guard, do not lift a's unsubscribe; one that saw it does
hctl a add skew@example.com --list news >/dev/null
everywhere "b c" skew@example.com news
u=$(psql_q 5432 "select time from unsub_event where address = 'skew@example.com'")
for d in -3600000000 300000000; do
	psql_q 5432 "insert into unsub_event (uid, host, time, kind, action, address, scope, source, detail)
	    values (decode(md5(random()::text), 'hex'), 'skewed', $u + $d, 'change', 'resubscribe', 'skew@example.com', 'news', 'manual', '')" >/dev/null
done
psql_q 5432 "notify unsub_event" >/dev/null
wait_until 20 "c applied the skewed events" sh -c "'$B/unsubctl' -c '$T/h/c/conf' history skew@example.com | grep -c resubscribe | grep -q 2"
suppressed_on c skew@example.com news || fail "a blind resubscribe lifted an unsubscribe"
hctl b resubscribe skew@example.com --list news --by test >/dev/null
for h in a c; do wait_until 20 "lifted on $h" not_suppressed_on "$h" skew@example.com; done

# 7. a new host bootstraps; list mail tempfails until then, and when stale
host_env d "$DB" <<EOC
SyncMaxStaleness 2s
EOC
milter_on d
mail d list add@example.com tempfail "suppression list not loaded yet, try again later"
mail d list other@example.com tempfail "suppression list not loaded yet, try again later"
sync_start d
wait_until 30 "d bootstrapped" suppressed_on d bulk2999@example.com news
mail d list add@example.com reject
mail d list other@example.com accept
suppressed_on d ref@example.com news || fail "d lacks b's mailto unsubscribe"
hctl d decode "<mailto:$rcpt>" >/dev/null || fail "d cannot resolve c's reference"
sync_kill d
sleep 3
mail d list other@example.com tempfail "suppression list out of date, try again later"
hctl d add stale@example.com >/dev/null || fail "a stale host stopped recording"
# 8. a store from before the fleet (a suppression without merge state and
# a registry entry of the first format, written with mdb_load as that
# version wrote them) is carried into the outbox at the first start
host_env e "$DB" </dev/null
hctl e add seed@example.com --list news >/dev/null
hexof() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
old=$(hexof old@example.com)00$(hexof news)
printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n 01000000006ab13b8005\nDATA=END\n' \
    "$old" | mdb_load -s supp "$T/h/e/db" || fail "mdb_load supp"
printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n 01%s00%s\nDATA=END\n' \
    "$(hexof oldlist)" "$(hexof 'Old list')" "$(hexof 'From before')" |
    mdb_load -s lists "$T/h/e/db" || fail "mdb_load lists"
sync_start e
everywhere "a b" old@example.com news
wait_until 20 "oldlist on b" sh -c "'$B/unsubctl' -c '$T/h/b/conf' lists | grep -q oldlist"
grep -q "carried over from before the fleet into the outbox: 1 suppressions, 1 lists" "$T/h/e/sync.log" ||
    fail "e did not say what it carried: $(cat "$T/h/e/sync.log")"
assert_eq "$(psql_q 5432 "select source || ' ' || time from unsub_event where address = 'old@example.com'")" \
    "import 1790000000000000" "the carried event keeps its source and time"
sync_kill e
sync_start e
wait_until 20 "e connected again" sh -c "[ \$(grep -c 'connected to PostgreSQL' '$T/h/e/sync.log') = 2 ]"
assert_eq "$(grep -c 'carried over' "$T/h/e/sync.log")" 1 "carried over once"

echo "--- a's unsub-sync"; cat "$T/h/a/sync.log"
