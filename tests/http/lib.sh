# lib.sh - start unsub-httpd on a free loopback port for a test.  Sourced
# after ../common.sh.

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# http_env: unsub_env for unsub-httpd on a free loopback port with the
# shipped templates (more config lines from stdin); sets PORT and BASE.
http_env() {
	PORT=$(free_port)
	BASE="http://127.0.0.1:$PORT"
	{
		echo "HTTPListen 127.0.0.1:$PORT"
		echo "HTTPTemplates $TOP/conf/templates"
		[ -t 0 ] || cat
	} | unsub_env
}

# httpd_start [SCHEME]: start the daemon (config already written), wait
# until it answers /healthz.
httpd_start() {
	"$B/unsub-httpd" -f -c "$CONF" >>"$T/httpd.log" 2>&1 &
	HTTPD_PID=$!
	PIDS="$PIDS $HTTPD_PID"
	i=0
	until curl -sfk "${1:-http}://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "unsub-httpd did not start: $(cat "$T/httpd.log")"
		sleep 0.05
	done
}

# The https token of a fresh `unsubctl token ADDRESS --list LIST [opts]`.
url_token() {
	ctl token "$@" | sed -n 's#.*/u/\([A-Za-z0-9_-]*\)>.*#\1#p'
}

# code METHOD URL [curl options]: the HTTP status only.
code() {
	m=$1 u=$2
	shift 2
	curl -s -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$u"
}
