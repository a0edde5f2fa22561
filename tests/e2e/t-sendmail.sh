#!/bin/sh
# End to end through a real Sendmail on loopback with unsub-milter (the
# conf/sendmail.mc lines): the relayed bulk message carries both headers,
# a suppressed recipient is refused with the 5.7.1 text, and a reply to
# the relayed message's mailto is recorded and consumed.  Installing
# Debian's sendmail-bin would remove postfix (both provide
# mail-transport-agent), so the test runs Sendmail from the unpacked
# packages, in a private mount namespace whose /etc/hosts gives the host a
# domain (Sendmail stalls 60 s at start without one).
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/e2e/lib.sh"
# Sendmail refuses a milter socket below a world-writable directory (/tmp).
RUNDIR=$(mktemp -d /run/unsub-sm.XXXXXX)
chmod 0755 "$RUNDIR"
SOCK="$RUNDIR/milter.sock"
trap 'rc=$?; set +e; rm -rf "$RUNDIR"; (exit $rc); e2e_cleanup' EXIT
unsub_env </dev/null
chown nobody "$RUNDIR"
milter_start
sink_start

SM="$T/sm"
mkdir -p "$SM/pkgs" "$SM/root" "$SM/mqueue" "$SM/cq"
chmod 0700 "$SM/mqueue"
(cd "$SM/pkgs" && apt-get download sendmail-bin sendmail-base sendmail-cf libwrap0) \
    >"$SM/download.log" 2>&1 || fail "apt-get download: $(tail -3 "$SM/download.log")"
for d in "$SM"/pkgs/*.deb; do dpkg-deb -x "$d" "$SM/root"; done
# a copy without the setgid bit, so that LD_LIBRARY_PATH finds libwrap
install -m 0755 "$SM/root/usr/libexec/sendmail/sendmail" "$SM/sendmail"
PORT=$(free_port)
milter_line=$(grep "INPUT_MAIL_FILTER(\`unsub-milter'" "$TOP/conf/sendmail.mc" |
    sed "s#unix:/run/unsub-milter/milter.sock#unix:$SOCK#")
cat >"$SM/test.mc" <<EOC
include(\`$SM/root/usr/share/sendmail/cf/m4/cf.m4')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mta.test.example')dnl
define(\`QUEUE_DIR', \`$SM/mqueue')dnl
define(\`MSP_QUEUE_DIR', \`$SM/cq')dnl
define(\`confPID_FILE', \`$SM/sendmail.pid')dnl
define(\`STATUS_FILE', \`$SM/statistics')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM/service.switch')dnl
define(\`confHOSTS_FILE', \`$SM/hosts')dnl
FEATURE(\`nocanonify')dnl
define(\`confLISTEN_QUEUE_SIZE', \`128')dnl
define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
define(\`confDELIVERY_MODE', \`background')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`promiscuous_relay')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Port=$PORT, Addr=127.0.0.1, Name=MTA')dnl
$milter_line
MAILER(\`smtp')dnl
EOC
m4 "$SM/test.mc" >"$SM/test.cf" 2>"$SM/m4.log" || fail "m4: $(cat "$SM/m4.log")"
echo "127.0.0.1 sm.test.example $(hostname) localhost" >"$SM/hosts"
echo "hosts files" >"$SM/service.switch"
# its own PID namespace: when the test stops it, its children go too
unshare --fork --pid --kill-child --mount sh -c "mount --bind '$SM/hosts' /etc/hosts &&
    LD_LIBRARY_PATH='$SM/root/usr/lib/x86_64-linux-gnu' exec '$SM/sendmail' \
    -C '$SM/test.cf' -bD -q5s" >"$SM/sendmail.log" 2>&1 &
UPID=$!
wait_for 20 "sendmail on port $PORT ($(cat "$SM/sendmail.log"))" \
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT)).close()"
# unshare waits for its child and does not pass SIGTERM on: stop sendmail
# itself (the namespace's first process), then unshare ends with it.
PIDS="$PIDS $(pgrep -P "$UPID") $UPID"

E2E_SEND_PORT=$PORT
export E2E_SEND_PORT
send --from news@sender.example --to reader@example.com \
    --header "X-Unsub-List: news" --body "news via sendmail" ||
	fail "bulk through sendmail: $(cat "$T/swaks.out" 2>/dev/null)"
sink_wait 1
m=$(sink_msgs | tail -n 1)
assert_eq "$(grep -ci '^List-Unsubscribe:' "$m")" 1 "List-Unsubscribe via sendmail"
assert_eq "$(grep -ci '^List-Unsubscribe-Post: List-Unsubscribe=One-Click' "$m")" 1 "List-Unsubscribe-Post via sendmail"
assert_eq "$(grep -ci '^X-Unsub-List' "$m")" 0 "marker removed via sendmail"

ctl add gone@example.com --list news >/dev/null
if send --from news@sender.example --to gone@example.com \
    --header "X-Unsub-List: news" --body "x"; then
	fail "sendmail accepted bulk mail to a suppressed recipient"
fi
grep -q "5\.7\.1 recipient has unsubscribed" "$E2E_SWAKS_OUT" ||
	fail "no 5.7.1 text from sendmail: $(cat "$E2E_SWAKS_OUT")"

# Inbound: Gmail's shape of reply (only the mailto's address survives).
uri=$(sed -n 's/^[ \t]*<mailto:\([^>]*\)>$/\1/p' "$m")
[ -n "$uri" ] || fail "no mailto in the message sendmail relayed"
n=$(sink_msgs | wc -l)
send --from reader@example.com --to "${uri%%\?*}" --header "Subject: unsubscribe" \
    --body "x" || fail "reply through sendmail: $(cat "$E2E_SWAKS_OUT")"
assert_match '"suppressed":true' "$(ctl status reader@example.com --json)" \
    "reply through sendmail recorded"
assert_match '"source":"mailto"' "$(ctl history reader@example.com --json)" \
    "reply through sendmail: source"
sleep 1
assert_eq "$(sink_msgs | wc -l)" "$n" "messages relayed (the reply must be consumed)"
echo "sendmail end to end: ok"
