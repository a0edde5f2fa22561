#!/bin/sh
# unsub-httpd over a real socket with curl: RFC 8058 one-click POSTs
# (urlencoded and multipart), the landing page (GET and HEAD never write),
# forged tokens, bad and oversized bodies, languages, health and metrics.
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/http/lib.sh"
http_env <<EOC
HTTPMaxBody 1024
PidFile $T/run/httpd.pid
EOC
assert_eq "$("$B/unsub-httpd" -n -c "$CONF")" "configuration OK" "-n"
# A query-form UnsubscribeURL would make every link 404: -n refuses it.
sed 's#^UnsubscribeURL .*#UnsubscribeURL https://unsub.example.com/unsub?t=#' "$CONF" >"$T/query.conf"
set +e; "$B/unsub-httpd" -n -c "$T/query.conf" >"$T/o" 2>&1; rc=$?; set -e
assert_eq "$rc" 1 "-n with UnsubscribeURL ...?t= fails"
assert_match "query.conf:[0-9]*: UnsubscribeURL must end in a path" "$(cat "$T/o")" "-n names the query form"
httpd_start

suppressed() { ctl status "$1" --json | grep -q '"suppressed":true'; }

# GET and HEAD: the landing page, nothing written.
t=$(url_token reader@example.com --list news --campaign c3)
assert_eq "$(code GET "$BASE/u/$t")" 200 "GET landing"
assert_match 'r•••r@example\.com' "$(cat "$T/body")" "masked address"
assert_match 'name="keep" value="news" checked' "$(cat "$T/body")" "the token's list, ticked"
assert_match 'name="scope" value="all"' "$(cat "$T/body")" "all-lists button"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -I "$BASE/u/$t")" 200 "HEAD landing"
! suppressed reader@example.com || fail "GET or HEAD wrote a suppression"

# Languages by Accept-Language.
code GET "$BASE/u/$t" -H 'Accept-Language: sv-SE,sv;q=0.9,en;q=0.5' >/dev/null
assert_match 'Avregistrera bara från news' "$(cat "$T/body")" "Swedish page"
code GET "$BASE/u/$t" -H 'Accept-Language: fr, de;q=0.8' >/dev/null
assert_match 'Nur von news abmelden' "$(cat "$T/body")" "German page"
code GET "$BASE/u/$t" -H 'Accept-Language: fr' >/dev/null
assert_match 'lang="en"' "$(cat "$T/body")" "English by default"

# RFC 8058 POST, urlencoded.
assert_eq "$(code POST "$BASE/u/$t" -d 'List-Unsubscribe=One-Click')" 200 "one-click urlencoded"
suppressed reader@example.com || fail "one-click POST recorded nothing"
assert_match '"source":"one-click"' "$(ctl history reader@example.com --json)" "source"
assert_match 'campaign=c3' "$(ctl history reader@example.com --json)" "campaign in detail"
# repeat: idempotent, 200 again, logged as a repeat, the store not grown
h=$(ctl history reader@example.com --json)
assert_eq "$(code POST "$BASE/u/$t" -d 'List-Unsubscribe=One-Click')" 200 "repeat"
assert_eq "$(ctl history reader@example.com --json)" "$h" "repeat: history unchanged"
assert_match '\(repeat\)' "$(cat "$T/httpd.log")" "repeat logged"
# the landing page now says since when
code GET "$BASE/u/$t" >/dev/null
assert_match "already unsubscribed on $(date -u +%Y-%m-%d) at [0-2][0-9]:[0-5][0-9] UTC" "$(cat "$T/body")" "already-unsubscribed date and time"

# multipart/form-data
t=$(url_token multi@example.com --list news)
assert_eq "$(code POST "$BASE/u/$t" -F 'List-Unsubscribe=One-Click')" 200 "one-click multipart"
suppressed multi@example.com || fail "multipart POST recorded nothing"

# The landing page's own form: all lists, with a reason.
t=$(url_token page@example.com --list news)
assert_eq "$(code POST "$BASE/u/$t" -d 'from=page&scope=all&reason=too+much+mail')" 200 "landing form"
assert_match '"scopes":\["\*"\]' "$(ctl status page@example.com --json)" "all-lists scope"
assert_match '"source":"landing-page","detail":"reason=too much mail"' \
    "$(ctl history page@example.com --json)" "landing source and reason"

# Forged (one character changed), unknown key, malformed: 4xx, nothing.
t=$(url_token forged@example.com --list news)
c=$(echo "$t" | cut -c40); [ "$c" = A ] && r=B || r=A
bad="$(echo "$t" | cut -c1-39)$r$(echo "$t" | cut -c41-)"
assert_eq "$(code POST "$BASE/u/$bad" -d 'List-Unsubscribe=One-Click')" 404 "forged token"
assert_eq "$(code GET "$BASE/u/$bad")" 404 "forged token page"
assert_eq "$(code POST "$BASE/u/not-a-token" -d 'List-Unsubscribe=One-Click')" 400 "malformed token"
! suppressed forged@example.com || fail "a forged token recorded something"
grep -q "POST token $(echo "$bad" | cut -c1-8)\.\.\. from 127.0.0.1 refused" "$T/httpd.log" ||
	fail "refusal not logged: $(tail -3 "$T/httpd.log")"
grep -q "$bad" "$T/httpd.log" && fail "a whole token was logged"
# Control characters from the URL (decoded by libmicrohttpd) are escaped
# in the log: no forged line, the bytes shown as \xHH.
assert_eq "$(code GET "$BASE/u/%0a%0dFAKE")" 400 "control characters in the token"
! grep -q '^.\{0,1\}FAKE' "$T/httpd.log" || fail "a URL wrote its own log line: $(grep -n FAKE "$T/httpd.log")"
grep -q 'GET token \\x0a\\x0dFAKE\.\.\. from 127.0.0.1 refused' "$T/httpd.log" ||
	fail "escaped token not logged: $(grep -n -B1 FAKE "$T/httpd.log")"

# Empty or different bodies: 400, nothing recorded.
assert_eq "$(code POST "$BASE/u/$t")" 400 "empty body"
assert_eq "$(code POST "$BASE/u/$t" -d 'List-Unsubscribe=Yes')" 400 "other value"
assert_eq "$(code POST "$BASE/u/$t" -H 'Content-Type: application/json' -d '{}')" 400 "json body"
! suppressed forged@example.com || fail "a bad body recorded something"
# Oversized: 413, nothing.
head -c 5000 /dev/zero | tr '\0' a >"$T/big"
assert_eq "$(code POST "$BASE/u/$t" --data-binary "@$T/big")" 413 "oversized body"
! suppressed forged@example.com || fail "an oversized request recorded something"
# Unknown paths and methods.
assert_eq "$(code GET "$BASE/nothing")" 404 "unknown path"
assert_eq "$(code DELETE "$BASE/u/$t")" 405 "DELETE"

# Health and metrics.
assert_eq "$(code GET "$BASE/healthz")" 200 "healthz"
code GET "$BASE/metrics" >/dev/null
assert_match 'unsub_unsubscribes_total\{source="one-click"\} 3' "$(cat "$T/body")" "one-click counter"
assert_match 'unsub_unsubscribes_total\{source="landing-page"\} 1' "$(cat "$T/body")" "landing counter"
assert_match 'unsub_http_requests_total\{outcome="bad_token"\} 4' "$(cat "$T/body")" "bad token counter"
assert_match 'unsub_http_requests_total\{outcome="too_large"\} 1' "$(cat "$T/body")" "too large counter"

# A form value split across reads (a chunked body, then one split inside
# the value by a pause) is still the one-click value.
split_post() {
	within 60 python3 - "$PORT" "$1" "$2" <<'EOP'
import socket, sys, time
port, token, how = int(sys.argv[1]), sys.argv[2], sys.argv[3]
head = ("POST /u/%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n" % token)
if how == "chunked":
    parts = [head + "Transfer-Encoding: chunked\r\n\r\n"
             "15\r\nList-Unsubscribe=One-\r\n", "5\r\nClick\r\n0\r\n\r\n"]
else:
    parts = [head + "Content-Length: 26\r\n\r\nList-Unsubscribe=One-Cl", "ick"]
s = socket.create_connection(("127.0.0.1", port))
for p in parts:
    s.sendall(p.encode())
    time.sleep(0.2)
print(s.recv(4096).split(b" ")[1].decode())
EOP
}
t=$(url_token chunked@example.com --list news)
assert_eq "$(split_post "$t" chunked)" 200 "one-click in two chunks"
suppressed chunked@example.com || fail "a chunked one-click POST recorded nothing"
t=$(url_token split@example.com --list news)
assert_eq "$(split_post "$t" split)" 200 "one-click split inside the value"
suppressed split@example.com || fail "a split one-click POST recorded nothing"

# A reason cannot forge history lines (no control characters kept).
t=$(url_token reason@example.com --list news)
assert_eq "$(code POST "$BASE/u/$t" --data-urlencode 'from=page' \
    --data-urlencode "reason=$(printf 'x\n2026-01-01T00:00:00Z  resubscribe  *  manual  by=alice\033[31m')")" \
    200 "landing form with control characters"
assert_eq "$(ctl history reason@example.com | wc -l)" 1 "one history line"
ctl history reason@example.com | grep -q "$(printf '\033')" && fail "an escape reached the history"

# SIGHUP reloads the keyring: a token of a new key opens after it.
ctl genkey >/dev/null
t=$(url_token newkey@example.com --list news)
assert_eq "$(code POST "$BASE/u/$t" -d 'List-Unsubscribe=One-Click')" 404 "new key before reload"
kill -HUP "$HTTPD_PID"
wait_log "$T/httpd.log" "reloaded $T/keys (2 keys)"
assert_eq "$(code POST "$BASE/u/$t" -d 'List-Unsubscribe=One-Click')" 200 "new key after SIGHUP"

# Concurrent POSTs share commits, each answered for its own address: 32
# clients at once, three requests each on one keep-alive connection.
for n in $(seq 1 96); do url_token "many$n@example.com" --list news; done >"$T/many"
within 120 python3 - "$PORT" "$T/many" <<'EOP'
import http.client, sys, threading
port, toks = int(sys.argv[1]), open(sys.argv[2]).read().split()
bad = []
def client(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for t in toks[3 * k:3 * k + 3]:
        c.request("POST", "/u/" + t, "List-Unsubscribe=One-Click",
                  {"Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        if r.status != 200 or b"unsubscribed" not in r.read().lower():
            bad.append((t[:8], r.status))
th = [threading.Thread(target=client, args=(k,)) for k in range(32)]
for t in th: t.start()
for t in th: t.join()
if bad:
    sys.exit("concurrent POSTs not answered 200: %r" % bad)
EOP
for n in $(seq 1 96); do
	suppressed "many$n@example.com" || fail "many$n answered 200 but not recorded"
done
assert_eq "$(grep -c 'unsubscribe recorded address=many[0-9]*@example.com scope=news source=one-click client=127.0.0.1$' "$T/httpd.log")" 96 "one log line each"

# A second copy cannot listen, says so, and leaves the pidfile alone.
refused_copy "$T/run/httpd.pid" "$HTTPD_PID" "cannot listen on 127.0.0.1:$PORT" \
    "$B/unsub-httpd" -f -c "$CONF"

# Slow and malformed clients cost bounded memory and never crash it.
within 120 python3 - "$PORT" <<'EOP'
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(50):                      # idle and half-sent requests
    s = socket.create_connection(("127.0.0.1", port))
    s.send(b"POST /u/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")
    socks.append(s)
for junk in (b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\n\r\n",  # huge URL
             b"\x00\xff garbage\r\n\r\n",
             b"GET / HTTP/1.1\r\n" + b"X: " + b"b" * 60000 + b"\r\n\r\n"):
    s = socket.create_connection(("127.0.0.1", port))
    try:
        s.sendall(junk)       # the server may hang up half way: fine
        s.recv(4096)
    except OSError:
        pass
    s.close()
time.sleep(0.5)
for s in socks:
    s.close()
EOP
assert_eq "$(code GET "$BASE/healthz")" 200 "healthy after hostile clients"
kill -0 "$HTTPD_PID" || fail "unsub-httpd died"
# one client address gets HTTPMaxPerClient connections, not every one
within 120 python3 - "$PORT" <<'EOP'
import socket, sys, time
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
time.sleep(1)   # until the server has accepted (and counted) all 64
extra = socket.create_connection(("127.0.0.1", port))
extra.settimeout(5)
extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
try:
    got = extra.recv(100)
except OSError:
    got = b""
if got.startswith(b"HTTP/1.1 200"):
    sys.exit("a 65th connection from one address was served")
EOP

# Clients that reset their connection while a POST is answered: what
# libmicrohttpd logs about it never holds a whole token.
for n in $(seq 1 20); do url_token "reset$n@example.com" --list news; done >"$T/reset"
within 120 python3 - "$PORT" "$T/reset" <<'EOP'
import socket, struct, sys
port, toks = int(sys.argv[1]), open(sys.argv[2]).read().split()
body = b"List-Unsubscribe=One-Click"
for t in toks:
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.sendall(b"POST /u/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
              b"x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s"
              % (t.encode(), len(body), body))
    s.close()                   # RST, before the answer
EOP
sleep 0.5
while read -r t; do
	! grep -q "$t" "$T/httpd.log" || fail "a whole token was logged: $(grep "$t" "$T/httpd.log" | head -1)"
done <"$T/reset"
assert_eq "$(code GET "$BASE/healthz")" 200 "healthy after resets"

# SIGTERM while POSTs keep arriving (16 keep-alive clients, one POST
# after another): it stops cleanly, every 200 was recorded, every record
# logged.
for n in $(seq 1 160); do url_token "term$n@example.com" --list news; done >"$T/term"
within 120 python3 - "$PORT" "$T/term" "$HTTPD_PID" >"$T/term.ok" <<'EOP'
import http.client, os, signal, sys, threading, time
port, toks, pid = int(sys.argv[1]), open(sys.argv[2]).read().split(), int(sys.argv[3])
ok = set()
def client(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for i in range(100000):
            t = toks[(k + 16 * i) % len(toks)]
            c.request("POST", "/u/" + t, "List-Unsubscribe=One-Click",
                      {"Content-Type": "application/x-www-form-urlencoded"})
            r = c.getresponse()
            r.read()
            if r.status == 200:
                ok.add(toks.index(t) + 1)
    except (OSError, http.client.HTTPException):
        pass                    # the server closed: it is stopping
th = [threading.Thread(target=client, args=(k,)) for k in range(16)]
for t in th: t.start()
time.sleep(0.5)
os.kill(pid, signal.SIGTERM)
for t in th: t.join()
print("\n".join("term%d@example.com" % n for n in sorted(ok)))
EOP
reap "$HTTPD_PID" 10
assert_eq "$reap_rc" 0 "exit status after SIGTERM under load"
[ ! -f "$T/run/httpd.pid" ] || fail "pidfile left after SIGTERM"
ctl list --list news | awk '/^term/ {print $1}' | sort >"$T/term.rec"
sort "$T/term.ok" | comm -23 - "$T/term.rec" | grep . &&
    fail "answered 200 but not recorded (above)"
while read -r a; do
	grep -q "address=$a scope" "$T/httpd.log" || fail "$a recorded but not logged"
done <"$T/term.rec"
echo "SIGTERM under load: $(wc -l <"$T/term.ok") of 160 answered 200"
grep -q "stopping on signal 15" "$T/httpd.log" || fail "no stop logged"
echo "unsub-httpd over HTTP: ok"
