#!/bin/sh
# Golden-output test of every unsubctl verb, with exit codes, and two
# shells writing at once.  UPDATE_GOLDEN=1 rewrites the golden file.
. "$(dirname "$0")/../common.sh"
unsub_env <<EOC
SyncHostName golden
EOC
GOLDEN="$TOP/tests/ctl/golden.out"

# Run one command; record its stdout, stderr and exit code, normalised.
step() {
	echo "\$ unsubctl $*"
	set +e
	"$B/unsubctl" -c "$CONF" "$@" >"$T/o" 2>"$T/e"
	rc=$?
	set -e
	cat "$T/o"
	sed 's/^/stderr: /' "$T/e"
	echo "exit $rc"
}

normalise() {
	sed -E -e "s#$T#TMP#g" \
	    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z/TIME/g' \
	    -e 's/\b[0-9a-f]{8}\b/KEYID/g' \
	    -e 's#/u/[A-Za-z0-9_-]+#/u/TOKEN#g' \
	    -e 's/(\+|%2B)[a-z2-7]{24}@/\1REF@/g' \
	    -e 's/%20[a-z2-7]+&body=[a-z2-7]+/%20MTOKEN\&body=MTOKEN/g' \
	    -e 's/"seq":[0-9]+/"seq":N/g' \
	    -e 's/ref=[a-z2-7]{24}/ref=REF/g' \
	    -e 's/^(\$ unsubctl decode )[A-Za-z0-9_-]{40,}/\1TOKEN/'
}

{
	step keys
	step token Reader@Example.com --list news --campaign c1 --profile p9
	tok=$(sed -n 's#.*/u/\([A-Za-z0-9_-]*\)>.*#\1#p' "$T/o")
	mtok=$(sed -n 's#.*&body=\([a-z2-7]*\)>.*#\1#p' "$T/o")
	mailto=$(sed -n 's#.*<\(mailto:[^>]*\)>.*#\1#p' "$T/o")
	step token reader@example.com --list "news letter"
	step decode "$tok"
	step decode "$mtok" --json
	step decode "https://unsub.example.com/u/$tok"
	# the mailto reference, looked up in the store
	step decode "$mailto"
	step decode "$(echo "$mailto" | sed 's/+/%2B/')"	# RFC 6068 escape
	step decode "$(echo "$mailto" | sed 's/+[a-z2-7]*@/+aaaaaaaaaaaaaaaaaaaaaaaa@/')" --json
	c=$(echo "$tok" | cut -c50)
	[ "$c" = A ] && r=B || r=A
	bad="$(echo "$tok" | cut -c1-49)$r$(echo "$tok" | cut -c51-)"
	step decode "$bad"
	step decode "$(echo "$tok" | cut -c1-60)"
	step status reader@example.com --json
	step add Reader@Example.com --list news --reason "asked by phone"
	step add reader@example.com --list news
	step status reader@example.com
	step status reader@example.com --json
	step resubscribe reader@example.com --list news
	step resubscribe reader@example.com --list news --by alice
	step resubscribe reader@example.com --list news --by alice
	step add reader@example.com
	# all lists, then back on one: all except weekly, until all again
	step resubscribe reader@example.com --list weekly --by alice
	step resubscribe reader@example.com --list weekly --by alice
	step status reader@example.com
	step status reader@example.com --json
	step add reader@example.com --reason "all again"
	step status reader@example.com --json
	step history reader@example.com
	step history reader@example.com --json
	step history nobody@example.com
	step history nobody@example.com --json
	step lists
	step lists set news --title "Company news" --description "Now and then"
	step lists set weekly --title "The weekly"
	step lists set weekly --title "The Weekly"
	step lists set "bad name" --title x
	step lists set news
	step lists set news --title "$(printf 'a\tb')"
	step lists --json
	step lists remove weekly
	step lists remove weekly
	step lists
	step lists frob
	printf 'address,scope\nimp1@example.com,news\nIMP2@example.com\nnot-an-address\nimp1@example.com,news\n' >"$T/imp.csv"
	step import "$T/imp.csv"
	printf 'address@example.com,news\n' >"$T/imp2.csv"
	step import "$T/imp2.csv"
	step list
	step list --list news --json
	step list --since 2999-01-01
	step export
	step export --format jsonl
	step stats
	step events
	step events --after 4 --json
	step events --after x
	step sync status --json
	step sync init
	for i in $(seq 1 70); do echo "many@example.com,list$i"; done >"$T/many.csv"
	"$B/unsubctl" -c "$CONF" import "$T/many.csv" >/dev/null
	echo "scopes of many@: $("$B/unsubctl" -c "$CONF" status many@example.com --json |
	    grep -o '"list[0-9]*"' | sort -u | wc -l)"
	step frobnicate
	step status
	step status "bad address"
	step
} 2>&1 | normalise >"$T/actual"

# export --format jsonl is importable: a second store gets the same
# addresses and scopes; a JSON escape is decoded (jansson), and a line that
# is not an object with both values as strings is refused, not guessed.
sed "s#^Database .*#Database $T/db2#" "$CONF" >"$T/c3.conf"
mkdir "$T/db2"
"$B/unsubctl" -c "$CONF" export --format jsonl >"$T/all.jsonl"
printf '{"address":"esc\\u0061@example.com","scope":"news"}\n' >>"$T/all.jsonl"
printf '{"address":"cut@example.com","scope":"news"\n' >>"$T/all.jsonl"
set +e
"$B/unsubctl" -c "$T/c3.conf" import "$T/all.jsonl" >"$T/o" 2>"$T/e"; rc=$?
set -e
assert_eq "$rc" 1 "jsonl import with a broken line: exit"
assert_match "invalid 1$" "$(cat "$T/o")" "jsonl import: the broken line counted"
assert_match "all.jsonl:[0-9]*: skipped: not a JSON object" "$(cat "$T/e")" "jsonl import: the broken line named"
assert_match "suppressed for news" "$("$B/unsubctl" -c "$T/c3.conf" status esca@example.com)" \
    "jsonl import: the escaped address decoded"
assert_eq "$("$B/unsubctl" -c "$T/c3.conf" export | cut -d, -f1,2 | grep -v '^esca@' | sort)" \
    "$("$B/unsubctl" -c "$CONF" export | cut -d, -f1,2 | sort)" \
    "export jsonl, import, export csv: same addresses and scopes"

# JSON escaping, table-driven: each value (printf %b) as a reason, and as
# the scope where it is a valid list id (L; else the scope is caseN), goes
# out through status, history and export --format jsonl as valid JSON that
# decodes to the same bytes, and comes back through import unchanged.  A
# value that is not UTF-8 comes out with U+FFFD for its byte.
sed "s#^Database .*#Database $T/db4#" "$CONF" >"$T/c4.conf"
sed "s#^Database .*#Database $T/db5#" "$CONF" >"$T/c5.conf"
mkdir "$T/db4" "$T/db5"
cat >"$T/cases" <<'EOC'
L q"uote
L back\\slash
L {x}'/y
- tab\there
- ctl\001x\037y
- caf\303\251
- \346\227\245\346\234\254
- comma,list
- slash/and\177del
- latin\351
EOC
i=0
while IFS=' ' read -r k c; do
	i=$((i + 1))
	[ "$k" = L ] && l=$(printf '%b' "$c") || l=case$i
	"$B/unsubctl" -c "$T/c4.conf" add "o'k/x{$i}@example.com" \
	    --list "$l" --reason "$(printf '%b' "$c")" >/dev/null
done <"$T/cases"
"$B/unsubctl" -c "$T/c4.conf" export --format jsonl >"$T/esc.jsonl"
"$B/unsubctl" -c "$T/c5.conf" import "$T/esc.jsonl" >/dev/null
"$B/unsubctl" -c "$T/c5.conf" export --format jsonl >"$T/esc2.jsonl"
i=0
while IFS=' ' read -r k c; do
	i=$((i + 1))
	a="o'k/x{$i}@example.com"
	[ "$k" = L ] && l=$(printf '%b' "$c") || l=case$i
	"$B/unsubctl" -c "$T/c4.conf" status "$a" --json >"$T/st.json"
	"$B/unsubctl" -c "$T/c4.conf" history "$a" --json >"$T/hi.json"
	got=$(python3 - "$T" "$a" "$(printf '%b' "$c")" "$l" 2>&1 <<'EOP' || true
import json, os, sys
t, addr, want, scope = sys.argv[1], sys.argv[2], os.fsencode(sys.argv[3]), sys.argv[4]
# a value that is not UTF-8: each byte over 0x7f becomes U+FFFD
try:
    want = want.decode()
except UnicodeDecodeError:
    want = "".join(chr(b) if b < 0x80 else "\ufffd" for b in want)
def rows(name):
    with open(os.path.join(t, name), encoding="utf-8") as f:
        return {r["address"]: r["scope"] for r in map(json.loads, f)}
st = json.load(open(os.path.join(t, "st.json"), encoding="utf-8"))
hi = json.load(open(os.path.join(t, "hi.json"), encoding="utf-8"))
got = [st["scopes"], hi[0]["scope"], hi[0]["detail"],
       rows("esc.jsonl")[addr], rows("esc2.jsonl")[addr]]
reason = "reason=" + "".join(" " if ord(ch) < 0x20 or ord(ch) == 0x7f else ch
                             for ch in want)
print("ok" if got == [[scope], scope, reason, scope, scope] else
      "got %r, want scope %r, reason %r" % (got, scope, reason))
EOP
)
	assert_eq "$got" ok "JSON escaping, case $i ($c)"
done <"$T/cases"

# add and resubscribe --list take only ids the milter can match (the
# token's rule): each of these is a usage error, exit 2, one line on
# stderr, and nothing is written.
nl='
'
for l in "news,weekly" "news${nl}weekly" "news weekly" "*" "" \
    "$(printf 'x%.0s' $(seq 1 65))" "$(printf 'caf\303\251')"; do
	for verb in add resubscribe; do
		set +e
		"$B/unsubctl" -c "$CONF" $verb badlist@example.com --list "$l" \
		    --by alice >"$T/o" 2>"$T/e"; rc=$?
		set -e
		assert_eq "$rc" 2 "$verb --list \"$l\": exit"
		assert_eq "$(wc -l <"$T/e")" 1 "$verb --list \"$l\": one line"
	done
done
set +e; "$B/unsubctl" -c "$CONF" history badlist@example.com >/dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 1 "refused --list wrote nothing"

# Exit code 3 with a one-line message: bad config, missing keys, missing store.
printf 'Nonsense yes\n' >"$T/bad.conf"
set +e
"$B/unsubctl" -c "$T/bad.conf" keys 2>"$T/e"; rc=$?
set -e
assert_eq "$rc" 3 "bad config exit"
assert_eq "$(cat "$T/e")" "unsubctl: $T/bad.conf:1: unknown key \"Nonsense\"" "bad config message"
sed "s#^KeyFile .*#KeyFile $T/nokeys#; s#^Database .*#Database $T/nodb#" "$CONF" >"$T/c2.conf"
set +e
"$B/unsubctl" -c "$T/c2.conf" decode abc 2>"$T/e"; rc=$?
set -e
assert_eq "$rc" 3 "missing key file exit"
assert_eq "$(wc -l <"$T/e")" 1 "missing key file: one line"
set +e
"$B/unsubctl" -c "$T/c2.conf" status a@example.com 2>"$T/e"; rc=$?
set -e
assert_eq "$rc" 3 "missing store exit"
chmod 0644 "$T/keys"
set +e
"$B/unsubctl" -c "$CONF" keys 2>"$T/e"; rc=$?
set -e
assert_eq "$rc" 3 "key file 0644 refused"
assert_match "open to group or others" "$(cat "$T/e")" "0644 message"
chmod 0600 "$T/keys"

if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
	cp "$T/actual" "$GOLDEN"
	echo "golden file rewritten"
fi
diff -u "$GOLDEN" "$T/actual" || fail "unsubctl output differs from $GOLDEN"

# Two shells at once: 2 x 150 manual suppressions, none lost.
for s in a b; do
	( i=0; while [ $i -lt 150 ]; do
		"$B/unsubctl" -c "$CONF" add "$s$i@conc.example" --list news >/dev/null
		i=$((i + 1)); done ) &
	PIDS="$PIDS $!" adders="${adders:-} $!"
done
for p in $adders; do reap "$p" 300; done
n=$("$B/unsubctl" -c "$CONF" list --list news | grep -c '@conc.example')
assert_eq "$n" 300 "concurrent adds present"
"$B/unsubctl" -c "$CONF" history a149@conc.example --json | grep -q '"action":"unsubscribe"' ||
	fail "history of a concurrent add"

# events --follow: what is committed after it started, in order, then a
# clean exit on SIGTERM; a pipe whose reader has gone ends it.
last=$("$B/unsubctl" -c "$CONF" events | tail -n 1 | cut -d' ' -f1)
"$B/unsubctl" -c "$CONF" events --follow --json --after "$last" >"$T/follow" &
fpid=$!
PIDS="$PIDS $fpid"
for a in f1 f2 f3; do "$B/unsubctl" -c "$CONF" add "$a@follow.example" >/dev/null; done
i=0
until [ "$(wc -l <"$T/follow")" -ge 3 ]; do
	i=$((i + 1)); [ $i -lt 50 ] || fail "follow: $(cat "$T/follow")"
	sleep 0.1
done
assert_eq "$(sed 's/.*"address":"\([^"]*\)".*/\1/' "$T/follow" | tr '\n' ' ')" \
    "f1@follow.example f2@follow.example f3@follow.example " "followed in order"
assert_eq "$(head -n 1 "$T/follow" | sed 's/{"id":\([0-9]*\),.*/\1/')" \
    "$((last + 1))" "the first followed id is the cursor's next"
stop "$fpid"
assert_eq "$reap_rc" 0 "follow exits 0 on SIGTERM"
( "$B/unsubctl" -c "$CONF" events --follow --after "$((last + 3))" | head -n 1 >"$T/head" ) &
hpid=$!
PIDS="$PIDS $hpid"
"$B/unsubctl" -c "$CONF" add f4@follow.example >/dev/null
reap "$hpid" 5
assert_match "f4@follow.example" "$(cat "$T/head")" "follow into a pipe that closes"
echo "unsubctl golden output, concurrency and events --follow: ok"
