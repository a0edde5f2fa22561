#!/bin/sh
# unsubctl import from careless and hostile files: spaces trimmed, list ids
# held to the token's rule, any line length, each skipped line named with
# its reason; CSV and JSONL exports come back unchanged; and nothing in a
# file can lift a suppression.
. "$(dirname "$0")/../common.sh"
unsub_env </dev/null

# import FILE into the store of config $1; stdout in $T/o, stderr in $T/e,
# exit code in rc.
import_into() {
	set +e
	"$B/unsubctl" -c "$1" import "$2" >"$T/o" 2>"$T/e"; rc=$?
	set -e
}
scopes() { ctl status "$1" --json | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["scopes"])))'; }

# Spaces around address and scope are dropped, quoted or not; "*" and an
# empty scope mean all lists.
printf '%s\n' ' trim1@example.com , news ' '" trim2@example.com ", " news "' \
    'trim3@example.com,*' 'trim4@example.com, ' '{"address":" trim5@example.com","scope":" news "}' \
    >"$T/trim.csv"
import_into "$CONF" "$T/trim.csv"
assert_eq "$rc" 0 "trimmed import: exit ($(cat "$T/e"))"
assert_eq "$(cat "$T/o")" "imported 5, already suppressed 0, invalid 0" "trimmed import: counts"
for a in trim1 trim2 trim5; do
	assert_eq "$(scopes $a@example.com)" news "$a: scope without spaces"
done
assert_eq "$(scopes trim3@example.com)" "*" "trim3: * is all lists"
assert_eq "$(scopes trim4@example.com)" "*" "trim4: an empty scope is all lists"

# Invalid list ids and lines are skipped, each named (file:line and why),
# then counted on stdout and stderr; the good lines around them are kept.
{
	echo 'bad1@example.com,news weekly'
	echo 'bad2@example.com,"news,weekly"'
	printf 'bad3@example.com,\377news\n'
	printf 'bad4@example.com,caf\303\251\n'
	echo "bad5@example.com,$(printf 'x%.0s' $(seq 1 65))"
	echo 'bad6@example.com,"news'
	echo 'bad7@example.com,ne"ws'
	echo 'not-an-address,news'
	printf 'bad8@example.com,ne\000ws\n'
	echo 'good1@example.com,news'
} >"$T/bad.csv"
import_into "$CONF" "$T/bad.csv"
assert_eq "$rc" 1 "import with invalid lines: exit"
assert_eq "$(cat "$T/o")" "imported 1, already suppressed 0, invalid 9" "invalid lines counted"
for n in 1 2 3 4 5; do
	assert_match "bad.csv:$n: skipped: list id not 1 to 64 visible ASCII" "$(cat "$T/e")" "line $n named with why"
done
assert_match "bad.csv:6: skipped: a quoted field is not closed" "$(cat "$T/e")" "open quote"
assert_match "bad.csv:7: skipped: a quote inside a field" "$(cat "$T/e")" "stray quote"
assert_match "bad.csv:8: skipped: address has no @domain" "$(cat "$T/e")" "bad address"
assert_match "bad.csv:9: skipped: a NUL byte" "$(cat "$T/e")" "NUL byte"
assert_match "bad.csv: skipped 9 invalid lines" "$(cat "$T/e")" "summary on stderr"
for n in 1 2 3 4 5 6 7 8; do
	set +e; ctl status "bad$n@example.com" >/dev/null 2>&1; r=$?; set -e
	assert_eq "$r" 1 "bad$n@example.com not suppressed"
done
assert_eq "$(scopes good1@example.com)" news "the good line after the bad ones"

# Any line length: a line of 5000 bytes is one record, not two (the tail
# of a cut line was imported as its own record); an address that long is
# refused whole.
pad=$(printf ' %.0s' $(seq 1 5000))
{
	echo "long1@example.com,news,${pad}tail@example.com,news"
	echo "$(printf 'a%.0s' $(seq 1 3000))@example.com,news"
} >"$T/long.csv"
import_into "$CONF" "$T/long.csv"
assert_eq "$(cat "$T/o")" "imported 1, already suppressed 0, invalid 1" "long lines: counts"
assert_match "long.csv:2: skipped: address longer than 254" "$(cat "$T/e")" "long address named"
assert_eq "$(scopes long1@example.com)" news "long line imported"
set +e; ctl status tail@example.com >/dev/null 2>&1; r=$?; set -e
assert_eq "$r" 1 "the tail of a long line is not a record"

# Round trips: every valid value (quotes, backslashes, braces, mixed case,
# all lists) goes out through export (CSV, quoted as RFC 4180 wants, and
# JSONL) and comes back through import into an empty store unchanged.
i=0
for l in 'q"uote' 'back\slash' 'Mixed.Case' '{a}'"'"'b' '"' 'x"",y' '*'; do
	i=$((i + 1))
	[ "$l" = '*' ] && set -- || set -- --list "$l"
	set +e; ctl add "RT$i.o'k{x}@Example.COM" "$@" >/dev/null 2>"$T/e"; r=$?; set -e
	case $l in
	*,*) assert_eq "$r" 2 "a list id with a comma is refused" ;;
	*) assert_eq "$r" 0 "add $l ($(cat "$T/e"))" ;;
	esac
done
ctl export >"$T/rt.csv"
assert_match '^rt1\.o'"'"'k\{x\}@example\.com,"q""uote",' "$(cat "$T/rt.csv")" "export quotes a quote"
for fmt in csv jsonl; do
	mkdir "$T/db-$fmt"
	sed "s#^Database .*#Database $T/db-$fmt#" "$CONF" >"$T/$fmt.conf"
	ctl export --format $fmt >"$T/out.$fmt"
	import_into "$T/$fmt.conf" "$T/out.$fmt"
	assert_eq "$rc" 0 "$fmt import of an export: exit ($(cat "$T/e"))"
	assert_eq "$("$B/unsubctl" -c "$T/$fmt.conf" export | cut -d, -f1-2 | sort)" \
	    "$(ctl export | cut -d, -f1-2 | sort)" "$fmt export, import, export: the same"
done
assert_eq "$(scopes rt1.o\'k\{x\}@example.com)" 'q"uote' "scope with a quote"

# Nothing an import is fed lifts a suppression: a resubscribe column, an
# "action", extra fields, rows of export and history, the whole export.
ctl add keep@example.com --list news >/dev/null
ctl add keepall@example.com >/dev/null
ctl export >"$T/before.csv"
cat >"$T/lift.txt" <<'EOF'
keep@example.com,news,resubscribe
keep@example.com,news,2020-01-01T00:00:00Z,manual
keepall@example.com,*,resubscribe,by=alice
{"address":"keep@example.com","scope":"news","action":"resubscribe"}
{"address":"keepall@example.com","scope":"*","action":"resubscribe","by":"alice","source":"manual"}
{"address":"keep@example.com","scope":"news","action":null}
{"address":"keep@example.com","scope":"news","resubscribe":true,"suppressed":false}
{"time":"2020-01-01T00:00:00Z","action":"resubscribe","scope":"news","source":"manual","detail":"by=alice"}
{"address":"keepall@example.com","suppressed":false,"scopes":[]}
EOF
import_into "$CONF" "$T/lift.txt"
import_into "$CONF" "$T/before.csv"
ctl export --format jsonl >"$T/before.jsonl"
import_into "$CONF" "$T/before.jsonl"
assert_eq "$(scopes keep@example.com)" news "keep@: still suppressed for news"
assert_eq "$(scopes keepall@example.com)" "*" "keepall@: still suppressed for all"
for a in keep keepall; do
	! ctl history $a@example.com | grep -q resubscribe ||
		fail "an import lifted a suppression: $(ctl history $a@example.com)"
done
import_into "$CONF" "$T/lift.txt"
for n in 4 5 6; do
	assert_match "lift.txt:$n: skipped: \"action\" is not \"unsubscribe\"" "$(cat "$T/e")" \
	    "an action other than unsubscribe is refused (line $n)"
done
assert_eq "$(ctl export)" "$(cat "$T/before.csv")" "export after every lifting attempt: unchanged"
echo "unsubctl import: ok"
