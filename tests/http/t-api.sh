#!/bin/sh
# unsub-httpd's /api/v1/ over a real socket with curl: bearer secrets
# (rotation, reload), every endpoint, and bad input (no or wrong bearer,
# malformed JSON, duplicates, unknown fields, wrong types, 1 MB bodies,
# wrong methods) answered 4xx with nothing recorded.  Every answer is
# checked against doc/openapi.json by api_check.py.
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/http/lib.sh"
S1=first-secret-0123456789
S2=second-secret-abcdefghij
printf '# rotation: both valid\n%s\n\n%s\n' "$S1" "$S2" >"$T/api-tokens"
chmod 0600 "$T/api-tokens"
http_env <<EOC
APITokenFile $T/api-tokens
EOC
chown nobody "$T/api-tokens"	# read again on SIGHUP, as the User
assert_eq "$("$B/unsub-httpd" -n -c "$CONF")" "configuration OK" "-n"

# -n refuses a secret file open to others, and a short secret.
checkn() {
	set +e; "$B/unsub-httpd" -n -c "$CONF" >"$T/o" 2>&1; rc=$?; set -e
	assert_eq "$rc" 1 "-n with $1"
	assert_match "$2" "$(cat "$T/o")" "-n says why ($1)"
}
chmod 0644 "$T/api-tokens"
checkn "APITokenFile 0644" "api-tokens: mode 0644 is open to group or others"
chmod 0600 "$T/api-tokens"
cp "$T/api-tokens" "$T/api-tokens.good"
echo short >>"$T/api-tokens"
checkn "a short secret" "api-tokens:5: a secret is 16 to"
cp "$T/api-tokens.good" "$T/api-tokens"
httpd_start

# api METHOD PATH [curl options]: call the API with $AUTH (default the
# first secret); the status in $ST, the body in $T/body, checked against
# the OpenAPI file.
AUTH="Authorization: Bearer $S1"
api() {
	m=$1 p=$2
	shift 2
	ST=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$m" \
	    -H "$AUTH" "$@" "$BASE$p")
	python3 "$TOP/tests/http/api_check.py" "$TOP/doc/openapi.json" "$m" \
	    "$p" "$ST" "$T/body" || fail "$m $p: answer not as documented"
	grep -qi '^content-type: application/json' "$T/headers" ||
	    fail "$m $p: not application/json"
}
post() { p=$1; shift; api POST "$p" -H 'Content-Type: application/json' "$@"; }
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print(json.dumps(v[sys.argv[2]]) if not isinstance(v[sys.argv[2]], str) else v[sys.argv[2]])' "$T/body" "$1"; }
# expect STATUS ERROR WHAT: the last answer
expect() {
	assert_eq "$ST" "$1" "$3"
	[ -z "$2" ] || assert_eq "$(field error)" "$2" "$3: error code"
}

# Authentication: before anything else, on every path.
AUTH="X-None: 1"
api GET "/api/v1/status?address=a@example.com"
expect 401 unauthorized "no Authorization"
grep -qi '^www-authenticate: Bearer' "$T/headers" || fail "401 without WWW-Authenticate: Bearer"
AUTH="Authorization: Bearer $S1-not"
api GET "/api/v1/status?address=a@example.com"
expect 401 unauthorized "a wrong secret"
AUTH="Authorization: Basic $(printf 'x:%s' "$S1" | base64)"
api GET /api/v1/nothing-here
expect 401 unauthorized "Basic, on an unknown path"
AUTH="Authorization: Bearer $S2"
api GET "/api/v1/status?address=a@example.com"
expect 200 "" "the second secret (rotation)"
AUTH="Authorization: bearer $S1"
api GET "/api/v1/status?address=a@example.com"
expect 200 "" "the first secret, scheme in lower case"
assert_eq "$(field suppressed)" false "status of a fresh address"

# token: the links the milter would add; decrypt opens each of them.
post /api/v1/token -d '{"address":"Reader@Example.COM","list":"news","campaign":"c7"}'
expect 200 "" "token"
url=$(field url) mailto=$(field mailto)
assert_match '^https://unsub\.example\.com/u/[A-Za-z0-9_-]+$' "$url" "url"
assert_match '^mailto:unsubscribe\+[a-z2-7]{24}@unsub\.example\.com\?subject=' "$mailto" "mailto"
assert_match "^<$url>, <mailto:" "$(field list_unsubscribe)" "List-Unsubscribe, https first"
assert_eq "$(field list_unsubscribe_post)" "List-Unsubscribe=One-Click" "List-Unsubscribe-Post"
post /api/v1/decrypt -d "{\"token\":\"$url\"}"
expect 200 "" "decrypt the URL"
assert_eq "$(field address)/$(field list)/$(field campaign)/$(field reference)" \
    "reader@example.com/news/c7/false" "decrypt the URL: claims"
post /api/v1/decrypt -d "{\"token\":\"${url##*/}\"}"
expect 200 "" "decrypt the bare token"
# the mailto's reference alone (a client that drops subject and body)
post /api/v1/decrypt -d "{\"token\":\"${mailto%%\?*}\"}"
expect 200 "" "decrypt the mailto reference"
assert_eq "$(field address)/$(field reference)" "reader@example.com/true" "the reference resolves"
post /api/v1/decrypt -d '{"token":"https://unsub.example.com/u/AAAAforgedAAAA"}'
expect 422 invalid_token "a forged token"
post /api/v1/decrypt -d '{"token":"mailto:unsubscribe+aaaaaaaaaaaaaaaaaaaaaaaa@unsub.example.com"}'
expect 422 invalid_token "an unknown reference"

# Bad input: 4xx, and nothing recorded (checked at the end).
A=victim@example.com
post /api/v1/unsubscribe -d '{"address":"victim@example.com",'
expect 400 malformed_json "truncated JSON"
post /api/v1/unsubscribe -d '["victim@example.com"]'
expect 400 malformed_json "an array"
post /api/v1/unsubscribe -d "{\"address\":\"$A\",\"address\":\"x@example.com\"}"
expect 400 malformed_json "a duplicate key"
post /api/v1/unsubscribe -d "{\"address\":\"$A\",\"lists\":\"news\"}"
expect 400 unknown_field "a misspelt list (would widen to every list)"
post /api/v1/unsubscribe -d "{\"address\":\"$A\",\"list\":5}"
expect 400 wrong_type "a number for list"
post /api/v1/unsubscribe -d "{\"address\":[\"$A\"]}"
expect 400 wrong_type "an array for address"
post /api/v1/unsubscribe -d '{"list":"news"}'
expect 400 missing_field "no address"
post /api/v1/unsubscribe -d "{\"address\":\"$A\",\"list\":\"news,weekly\"}"
expect 422 invalid_value "two lists in one id"
post /api/v1/unsubscribe -d "{\"address\":\"$A\",\"list\":\"*\"}"
expect 422 invalid_value "list *"
post /api/v1/unsubscribe -d '{"address":"not an address"}'
expect 422 invalid_value "a bad address"
post /api/v1/unsubscribe -d "{\"address\":\"$A\",\"reason\":\"$(head -c 300 /dev/zero | tr '\0' r)\"}"
expect 422 invalid_value "a 300-octet reason"
post /api/v1/unsubscribe -d "{\"address\":\"$A\\u0000x@example.com\"}"
expect 400 malformed_json "a NUL in the address"
api POST /api/v1/unsubscribe -H 'Content-Type: text/plain' -d "{\"address\":\"$A\"}"
expect 415 unsupported_media_type "text/plain"
head -c 1048576 /dev/zero | tr '\0' ' ' >"$T/big"
post /api/v1/unsubscribe --data-binary "@$T/big"
expect 413 too_large "a 1 MB body"
post /api/v1/unsubscribe -H 'Transfer-Encoding: chunked' --data-binary "@$T/big"
expect 413 too_large "a 1 MB chunked body"
api GET /api/v1/unsubscribe
expect 405 method_not_allowed "GET of a POST endpoint"
grep -qi '^allow: POST' "$T/headers" || fail "405 without Allow: POST"
post /api/v1/status -d '{}'
expect 405 method_not_allowed "POST of a GET endpoint"
grep -qi '^allow: GET' "$T/headers" || fail "405 without Allow: GET"
api GET "/api/v1/status?address=$A&limit=99999999999"
expect 400 unknown_field "an unknown parameter"
api GET /api/v1/history
expect 400 missing_field "history without address"
api GET "/api/v1/status?address=nope"
expect 422 invalid_value "status of a bad address"
for q in "limit=0|422 invalid_value" "limit=1001|422 invalid_value" \
    "wait=-1|422 invalid_value" "wait=61|422 invalid_value" \
    "wait=abc|400 wrong_type" "after=x|400 wrong_type" \
    "after=99999999999999999999999|422 invalid_value" \
    "after=1&since=2|400 unknown_field"; do
	api GET "/api/v1/events?${q%%|*}"
	r=${q#*|}
	expect "${r%% *}" "${r#* }" "events?${q%%|*}"
done
post /api/v1/resubscribe -d "{\"address\":\"$A\",\"list\":\"news\"}"
expect 400 missing_field "resubscribe without by"
post /api/v1/resubscribe -d "{\"address\":\"$A\",\"by\":\"crm\"}"
expect 409 not_suppressed "resubscribe of an address not suppressed"
post /api/v1/resubscribe -d "{\"address\":\"$A\",\"by\":\"crm\",\"reason\":\"x\"}"
expect 400 unknown_field "resubscribe takes no reason"
api GET "/api/v1/history?address=$A"
expect 200 "" "history of an address never changed"
assert_eq "$(cat "$T/body")" "[]" "bad input recorded nothing"

# unsubscribe and resubscribe: recorded, source api, same JSON as unsubctl.
post /api/v1/unsubscribe -d '{"address":"Crm@Example.com","list":"news","reason":"asked the call centre","by":"crm-sync"}'
expect 200 "" "unsubscribe"
assert_eq "$(field recorded)/$(field changed)" "true/true" "unsubscribe recorded"
post /api/v1/unsubscribe -d '{"address":"crm@example.com","list":"news"}'
assert_eq "$ST/$(field changed)" "200/false" "a repeat"
api GET "/api/v1/status?address=crm@example.com"
expect 200 "" "status"
assert_eq "$(cat "$T/body")" "$(ctl status crm@example.com --json)" "API status = unsubctl status --json"
api GET "/api/v1/history?address=crm@example.com"
expect 200 "" "history"
assert_eq "$(cat "$T/body")" "$(ctl history crm@example.com --json)" "API history = unsubctl history --json"
assert_match '"source":"api","detail":"by=crm-sync reason=asked the call centre"' "$(cat "$T/body")" "source api, by and reason kept"
post /api/v1/resubscribe -d '{"address":"crm@example.com","list":"news","by":"alice"}'
expect 200 "" "resubscribe"
ctl status crm@example.com >/dev/null && fail "resubscribe lifted nothing"
post /api/v1/unsubscribe -d '{"address":"all@example.com"}'
expect 200 "" "unsubscribe from every list"
assert_match '"scopes":\["\*"\]' "$(ctl status all@example.com --json)" "no list: every list"

# GET /api/v1/events: the feed as unsubctl events --json, by cursor.
compact() { python3 -c 'import json,sys
for e in json.load(open(sys.argv[1]))["events"]: print(json.dumps(e, separators=(",", ":"), ensure_ascii=False))' "$T/body"; }
api GET /api/v1/events
expect 200 "" "events"
assert_eq "$(compact)" "$(ctl events --json)" "API events = unsubctl events --json"
last=$(field next)
api GET "/api/v1/events?limit=2"
assert_eq "$(compact | wc -l)" 2 "limit=2"
second=$(field next)
api GET "/api/v1/events?after=$second"
assert_eq "$(compact)" "$(ctl events --json --after "$second")" "after=the next cursor"
assert_eq "$(field next)" "$last" "next after the last page"
api GET "/api/v1/events?after=$last"
assert_eq "$(field events)/$(field next)" "[]/$last" "nothing past the end"

# Long-poll: answered as soon as an event arrives, from the API's own
# committer and from another process; after wait seconds with nothing;
# waiting requests hold no worker thread (HTTPThreads is 4: 8 wait).
lp() {	# lp N QUERY: a background long-poll into $T/lp.N
	curl -s -o "$T/lp.$1" -w '%{http_code} %{time_total}\n' -H "$AUTH" \
	    "$BASE/api/v1/events?$2" >"$T/lp.$1.st" &
	LP=$!
}
for i in 1 2 3 4 5 6 7 8; do lp "w$i" "after=$last&wait=4"; done
sleep 0.5
t0=$(date +%s%N)
api GET "/api/v1/status?address=a@example.com"
expect 200 "" "a GET while 8 requests wait"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 1000 ] || fail "a GET took $ms ms while 8 requests waited"
post /api/v1/unsubscribe -d '{"address":"lp1@example.com","list":"news"}'
expect 200 "" "an unsubscribe while 8 wait"
reap "$LP" 5
for i in 1 2 3 4 5 6 7 8; do
	assert_match '^200 ' "$(cat "$T/lp.w$i.st")" "waiter $i answered"
	assert_match '"address":"lp1@example.com"' "$(cat "$T/lp.w$i")" "waiter $i got the event"
	python3 "$TOP/tests/http/api_check.py" "$TOP/doc/openapi.json" GET \
	    /api/v1/events 200 "$T/lp.w$i" || fail "long-poll answer not as documented"
done
t=$(cut -d' ' -f2 "$T/lp.w1.st")
awk "BEGIN{exit !($t < 3)}" || fail "the waiter answered after $t s, not at the event"
last=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["next"])' "$T/lp.w1")
lp x "after=$last&wait=5"
sleep 0.5
ctl add lp2@example.com --list news >/dev/null
reap "$LP" 5
assert_match '"address":"lp2@example.com"' "$(cat "$T/lp.x")" "an event of another process wakes a waiter"
t=$(cut -d' ' -f2 "$T/lp.x.st")
awk "BEGIN{exit !($t < 3)}" || fail "woken by another process after $t s"
last=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["next"])' "$T/lp.x")
lp y "after=$last&wait=1"
reap "$LP" 5
assert_eq "$(cat "$T/lp.y")" "{\"events\":[],\"next\":$last}" "nothing within wait"
t=$(cut -d' ' -f2 "$T/lp.y.st")
awk "BEGIN{exit !($t >= 0.9 && $t < 3)}" || fail "wait=1 answered after $t s"

# /metrics counts the API's answers and its unsubscribes.
m=$(curl -s "$BASE/metrics")
assert_match '^unsub_http_api_requests_total\{code="unauthorized"\} 3$' "$m" "401s counted"
assert_match '^unsub_http_api_requests_total\{code="too_large"\} 2$' "$m" "413s counted"
assert_match '^unsub_unsubscribes_total\{source="api"\} 4$' "$m" "API unsubscribes counted (a repeat too: it is in history)"
# conf/grafana-unsub.json queries only what unsub-httpd exports.
for n in $(grep -o 'unsub_\(http\|unsubscribes\)_[a-z_]*' "$TOP/conf/grafana-unsub.json" | sort -u); do
	assert_match "^$n[{ ]" "$m" "the dashboard's $n"
done

# SIGHUP: the secrets are read again; a removed one stops working.
printf '%s\n' "$S2" >"$T/api-tokens"
kill -HUP "$HTTPD_PID"
wait_log "$T/httpd.log" "and $T/api-tokens"
AUTH="Authorization: Bearer $S1"
api GET "/api/v1/status?address=a@example.com"
expect 401 unauthorized "a secret removed and reloaded"
AUTH="Authorization: Bearer $S2"
api GET "/api/v1/status?address=a@example.com"
expect 200 "" "the secret kept"
echo "unsub-httpd API: ok"
