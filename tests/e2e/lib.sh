# lib.sh - end-to-end harness: a private Postfix on loopback (its own
# config_directory, queue and data directories under the test's temp dir,
# high ports, chroot off, logging to a file), smtp-sink as its next hop,
# opendkim with a test key, and our milter.  Sourced after ../common.sh;
# everything started is stopped by the EXIT trap.

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Wait (bounded) until a command succeeds: wait_for SECONDS WHAT CMD...
wait_for() {
	secs=$1; what=$2; shift 2
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt $((secs * 20)) ] || fail "timed out waiting for $what"
		sleep 0.05
	done
}

# smtp-sink on SINK_PORT writing one file per message under $T/sink.
sink_start() {
	SINK_PORT=$(free_port)
	mkdir -p "$T/sink"
	chown nobody "$T/sink"
	smtp-sink -u nobody -d "$T/sink/%M." -h sink.test.example \
	    "127.0.0.1:$SINK_PORT" 128 >"$T/sink.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 10 "smtp-sink" python3 -c "import socket; socket.create_connection(('127.0.0.1', $SINK_PORT)).close()"
}

# Messages the sink has received, oldest first.
sink_msgs() { ls -tr "$T/sink" 2>/dev/null | grep -v '^$' | sed "s#^#$T/sink/#"; }

# Wait until the sink holds N messages.
sink_wait() {
	n=$1
	wait_for 30 "$n message(s) at the sink (postfix log: $T/pf/maillog)" \
	    sh -c "[ \$(ls '$T/sink' | wc -l) -ge $n ]"
}

# opendkim signing for DOMAIN with selector "test", socket $T/dkim/sock.
# Its SignHeaders/OversignHeaders lines are conf/opendkim.conf's.
opendkim_start() {
	DKIM_DOMAIN=$1
	mkdir -p "$T/dkim"
	opendkim-genkey -D "$T/dkim" -d "$DKIM_DOMAIN" -s test
	chown -R opendkim "$T/dkim" 2>/dev/null || true
	cat >"$T/dkim/opendkim.conf" <<EOC
Syslog no
Background no
Mode s
Domain $DKIM_DOMAIN
Selector test
KeyFile $T/dkim/test.private
Socket local:$T/dkim/sock
UMask 000
PidFile $T/dkim/pid
Canonicalization relaxed/relaxed
InternalHosts 127.0.0.1
RequireSafeKeys false
EOC
	grep -v '^#' "$TOP/conf/opendkim.conf" >>"$T/dkim/opendkim.conf"
	opendkim -f -x "$T/dkim/opendkim.conf" >"$T/dkim/log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 10 "opendkim socket" test -S "$T/dkim/sock"
}

# A private Postfix on SMTP_PORT relaying everything to the sink, with
# smtpd_milters set to $1.
postfix_start() {
	SMTP_PORT=$(free_port)
	PF="$T/pf"
	mkdir -p "$PF/queue" "$PF/data"
	chown postfix "$PF/data"
	cp /etc/postfix/master.cf "$PF/master.cf"
	cat >"$PF/main.cf" <<EOC
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.test.example
mydomain = test.example
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
relay_domains =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$SINK_PORT
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_milters = $1
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
maillog_file = $PF/maillog
maillog_file_prefixes = $T
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
biff = no
smtputf8_enable = no
EOC
	# our own smtpd port, no chroot anywhere
	sed -i "s/^smtp      inet/127.0.0.1:$SMTP_PORT inet/" "$PF/master.cf"
	postconf -c "$PF" -F '*/*/chroot = n'
	script -qc "postfix -c $PF check" /dev/null >"$T/postfix-check.log" 2>&1 &&
	    ! grep -q fatal "$T/postfix-check.log" ||
		fail "postfix check: $(cat "$T/postfix-check.log")"
	postfix -c "$PF" start >"$T/postfix-start.log" 2>&1 ||
		fail "postfix start: $(cat "$T/postfix-start.log")"
	POSTFIX_UP=1
	wait_for 20 "postfix smtpd on $SMTP_PORT" python3 -c "import socket; socket.create_connection(('127.0.0.1', $SMTP_PORT)).close()"
}

postfix_stop() {
	[ "${POSTFIX_UP:-0}" = 1 ] && postfix -c "$PF" stop >/dev/null 2>&1 || true
	POSTFIX_UP=0
}

# swaks through the private Postfix; extra swaks options pass through.
# Prints the transcript to $T/swaks.out and returns swaks' status.
send() {
	swaks --server "127.0.0.1:$SMTP_PORT" --helo client.test.example \
	    --timeout 30 "$@" >"$T/swaks.out" 2>&1
}

# The last server reply before QUIT's, as swaks printed it ("<-  250 ...").
last_reply() { grep -E '^<[-~*]* +[0-9]{3}' "$T/swaks.out" | grep -v ' 221 ' | tail -n 1; }

# Offline DKIM verification of a message file with dkimpy, against the
# test key's DNS record; prints "h=..." and exits non-zero on failure.
dkim_verify() {
	/usr/bin/python3 - "$1" "$T/dkim/test.txt" <<'EOP'
import re, sys, dkim
msg = open(sys.argv[1], 'rb').read()
txt = open(sys.argv[2]).read()
record = ''.join(re.findall(r'"([^"]*)"', txt)).encode()
def dns(name, timeout=5):
    return record if name.startswith(b'test._domainkey.') else None
sig = re.search(rb'^DKIM-Signature:(.*?)\r?\n(?![ \t])', msg, re.M | re.S)
h = re.search(rb'(?:^|;)\s*h=([^;]*)', sig.group(1)).group(1) if sig else b''
print('h=' + re.sub(rb'\s+', b'', h).decode())
sys.exit(0 if dkim.verify(msg, dnsfunc=dns) else 1)
EOP
}

trap 'postfix_stop; cleanup' EXIT INT TERM
