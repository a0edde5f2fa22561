#!/bin/sh
# The preference centre through the real unsub-httpd with curl: the
# landing page lists every registered list (and the token's) with whether
# the recipient gets it; scope=choose with keep= unsubscribes from the
# lists not kept and resubscribes to kept ones (suppressed for all: all
# except those); bad input is refused or ignored as documented, a forged
# token records nothing; languages are whatever HTTPTemplates holds.
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/http/lib.sh"
http_env </dev/null
# an operator's language beside the shipped ones
mkdir "$T/tpl"
cp "$TOP"/conf/templates/*.html "$T/tpl/"
for k in landing done error; do
	sed 's/lang="en"/lang="fr"/; s/<h1>/<h1>FR /' "$T/tpl/$k.en.html" >"$T/tpl/$k.fr-CA.html"
done
sed -i "s#^HTTPTemplates .*#HTTPTemplates $T/tpl#" "$CONF"
httpd_start

ctl lists set news --title "Company news" >/dev/null
ctl lists set weekly --title "The Weekly" --description "Every Monday, <b>short</b>" >/dev/null
ctl lists set offers --title "Offers" >/dev/null
hist() { ctl history "$1" --json 2>/dev/null || true; }
nhist() { hist "$1" | grep -o '"action"' | wc -l; }
post() { t=$1; shift; code POST "$BASE/u/$t" "$@"; }
ticked() { grep -o 'name="keep" value="[^"]*"[ a-z]*' "$T/body" | sed 's/name="keep" value="//; s/" checked/+/; s/"$//' | tr '\n' ' '; }

# GET: all first, then every list by title, all ticked; the token's marked.
t=$(url_token p1@example.com --list news)
assert_eq "$(code GET "$BASE/u/$t")" 200 "GET"
assert_eq "$(ticked)" "news+ offers+ weekly+ " "every list ticked"
assert_match 'Company news <span class="mark">' "$(cat "$T/body")" "the token's list marked"
assert_match 'Every Monday, &lt;b&gt;short&lt;/b&gt;' "$(cat "$T/body")" "description, escaped"
all_at=$(grep -bo 'value="all"' "$T/body" | cut -d: -f1)
first_box=$(grep -bo 'type="checkbox"' "$T/body" | head -1 | cut -d: -f1)
[ "$all_at" -lt "$first_box" ] || fail "unsubscribe from all is not first"
assert_match '<fieldset>' "$(cat "$T/body")" "a fieldset"
assert_match '<legend>' "$(cat "$T/body")" "with a legend"
assert_eq "$(nhist p1@example.com)" 0 "GET wrote nothing"

# A list never registered shows under its name, marked, first.
t2=$(url_token p2@example.com --list secret-list)
code GET "$BASE/u/$t2" >/dev/null
assert_eq "$(ticked)" "secret-list+ news+ offers+ weekly+ " "unregistered list shown"
assert_match 'secret-list <span class="mark">' "$(cat "$T/body")" "marked"

# Untick weekly: unsubscribed from weekly only, source preference-centre.
assert_eq "$(post "$t" -d 'from=page&scope=choose&keep=news&keep=offers&reason=too+often')" 200 "choose"
assert_match 'You will no longer get <strong>The Weekly</strong>' "$(cat "$T/body")" "done page says what changed"
assert_match '"scopes":\["weekly"\],"except":\[\]' "$(ctl status p1@example.com --json)" "weekly suppressed"
assert_match '"action":"unsubscribe","scope":"weekly","source":"preference-centre","detail":"reason=too often"' \
    "$(hist p1@example.com)" "history"
code GET "$BASE/u/$t" >/dev/null
assert_eq "$(ticked)" "news+ offers+ weekly " "weekly unticked now"

# The same form again: nothing changed, nothing written.
n=$(nhist p1@example.com)
assert_eq "$(post "$t" -d 'from=page&scope=choose&keep=news&keep=offers')" 200 "same choice"
assert_match 'Nothing changed' "$(cat "$T/body")" "nothing changed"
assert_eq "$(nhist p1@example.com)" "$n" "no history line"

# Tick it again (multipart): back on weekly.
assert_eq "$(post "$t" -F from=page -F scope=choose -F keep=news -F keep=weekly -F keep=offers)" 200 "choose multipart"
assert_match 'You will get <strong>The Weekly</strong> again' "$(cat "$T/body")" "back"
assert_match '"suppressed":false' "$(ctl status p1@example.com --json)" "not suppressed"

# All lists, then keep weekly: all except weekly.
assert_eq "$(post "$t" -d 'from=page&scope=all')" 200 "all"
code GET "$BASE/u/$t" >/dev/null
assert_eq "$(ticked)" "news offers weekly " "nothing ticked after all"
assert_match "already unsubscribed on $(date -u +%Y-%m-%d) at [0-2][0-9]:[0-5][0-9] UTC" "$(cat "$T/body")" "date and time"
assert_eq "$(post "$t" -d 'from=page&scope=choose&keep=weekly')" 200 "keep weekly"
assert_match '"scopes":\["\*"\],"except":\["weekly"\]' "$(ctl status p1@example.com --json)" "all except weekly"
assert_match '"action":"resubscribe","scope":"weekly","source":"preference-centre"' "$(hist p1@example.com)" "resubscribe in history"
code GET "$BASE/u/$t" >/dev/null
assert_eq "$(ticked)" "news offers weekly+ " "weekly ticked"

# Unknown names are ignored: keep=nope alone leaves weekly too.
assert_eq "$(post "$t" -d 'from=page&scope=choose&keep=nope&keep=')" 200 "unknown keep"
assert_match '"scopes":\["\*","weekly"\],"except":\[\]' "$(ctl status p1@example.com --json)" "weekly left, nope ignored"

# An address not suppressed for anything that unticks all: each list.
t3=$(url_token p3@example.com --list news)
assert_eq "$(post "$t3" -d 'from=page&scope=choose')" 200 "untick all"
assert_match '"scopes":\["news","offers","weekly"\]' "$(ctl status p3@example.com --json)" "every registered list"

# Bad input: a repeated field, too many keep values, 10k fields, a huge
# body: 4xx and nothing written.
t4=$(url_token p4@example.com --list news)
assert_eq "$(post "$t4" -d 'from=page&scope=choose&scope=all')" 400 "repeated scope"
assert_eq "$(post "$t4" -d 'from=page&from=page&scope=all')" 400 "repeated from"
keeps=$(i=0; while [ $i -lt 66 ]; do printf 'keep=l%d&' $i; i=$((i + 1)); done)
assert_eq "$(post "$t4" -d "${keeps}from=page&scope=choose")" 400 "66 keep values"
python3 -c 'print("&".join("keep=x%d" % i for i in range(10000)) + "&from=page&scope=choose")' >"$T/10k"
assert_eq "$(post "$t4" --data-binary @"$T/10k")" 413 "10k fields"
head -c 1048576 /dev/zero | tr '\0' a >"$T/huge"
assert_eq "$(post "$t4" -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @"$T/huge")" 413 "huge body"
assert_eq "$(nhist p4@example.com)" 0 "bad input wrote nothing"

# A forged token: 4xx, nothing recorded.
c=$(echo "$t4" | cut -c40); [ "$c" = A ] && r=B || r=A
bad="$(echo "$t4" | cut -c1-39)$r$(echo "$t4" | cut -c41-)"
s=$(post "$bad" -d 'from=page&scope=choose&keep=news')
case $s in 4??) ;; *) fail "forged token: got $s, want 4xx" ;; esac
assert_eq "$(nhist p4@example.com)" 0 "forged token wrote nothing"

# scope=list: the token's list only; no cookie is ever set.
assert_eq "$(post "$t4" -d 'from=page&scope=list' -D "$T/hdrs")" 200 "scope=list"
assert_match '"scopes":\["news"\]' "$(ctl status p4@example.com --json)" "the token's list"
! grep -qi '^set-cookie' "$T/hdrs" || fail "a cookie was set"

# Languages: the shipped three and the operator's fr-CA.
code GET "$BASE/u/$t" -H 'Accept-Language: fr-CA,fr;q=0.9' >/dev/null
assert_match '<h1>FR ' "$(cat "$T/body")" "fr-CA from HTTPTemplates"
code GET "$BASE/u/$t" -H 'Accept-Language: sv' >/dev/null
assert_match 'Avregistrera från alla listor' "$(cat "$T/body")" "Swedish"
code GET "$BASE/u/$t" -H 'Accept-Language: de-AT' >/dev/null
assert_match 'Von allen Listen abmelden' "$(cat "$T/body")" "German"
# a language with a landing page but no done page is a config error
rm "$T/tpl/done.fr-CA.html"
set +e; out=$("$B/unsub-httpd" -n -c "$CONF" 2>&1); rc=$?; set -e
[ "$rc" != 0 ] || fail "-n accepted a language without its done page"
assert_match 'done\.fr-CA\.html' "$out" "-n names the missing template"

assert_match 'unsub_unsubscribes_total\{source="preference-centre"\} [1-9]' \
    "$(curl -s "$BASE/metrics")" "preference-centre counter"
echo "preference centre over HTTP: ok"
