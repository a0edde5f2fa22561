#!/bin/sh
# Bounces end to end: list mail from bounces@sender.example goes out
# through the private Postfix and unsub-milter to the recipient's "MX" (a
# second smtpd of the same instance) that refuses it with 550 5.1.1;
# Postfix's bounce daemon returns it to the envelope sender, the DSN comes
# back over SMTP through the milter to the BounceMailbox, the recipient is
# suppressed before 250 and the DSN consumed; the next mailing to them is
# refused.
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/e2e/lib.sh"
e2e_require milter
unsub_env <<EOC
BounceMailbox bounces@sender.example
EOC
milter_start
sink_start
e2e__port REMOTE
e2e__port MX
echo "gone@example.com 550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown" >"$T/remote"
# example.com's MX refuses gone@; sender.example's MX is ours, with the
# milter (each its own name, or Postfix sees a loop to itself)
E2E_POSTFIX_EXTRA="transport_maps = inline:{example.com=smtp:[127.0.0.1]:$REMOTE, sender.example=smtp:[127.0.0.1]:$MX}"
postfix_start "unix:$SOCK"
postconf -c "$PF" -M "127.0.0.1:$REMOTE/inet = 127.0.0.1:$REMOTE inet n - n - - smtpd -o smtpd_milters= -o myhostname=mx.example.com -o smtpd_recipient_restrictions=check_recipient_access,texthash:$T/remote"
postconf -c "$PF" -M "127.0.0.1:$MX/inet = 127.0.0.1:$MX inet n - n - - smtpd -o myhostname=mx.sender.example"
e2e__postfix reload >/dev/null
e2e_wait 20 "the MX listeners" sh -c "ss -Hltn | grep -q ':$REMOTE ' && ss -Hltn | grep -q ':$MX '"

bulk() {
	send --from bounces@sender.example --to gone@example.com \
	    --header "Subject: Weekly news" --header "X-Unsub-List: news" \
	    --header "X-Unsub-Campaign: c9" --body "news"
}
bulk || fail "bulk mail refused: $(cat "$T/swaks.out")"
e2e_postfix_wait_log "to=<gone@example.com>.*status=bounced"
e2e_postfix_wait_log "to=<bounces@sender.example>.*status=sent"
e2e_wait 30 "gone@ suppressed" sh -c "'$B/unsubctl' -c '$CONF' status gone@example.com >/dev/null"
out=$(ctl history gone@example.com --json)
assert_match '"source":"bounce"' "$out" "history source"
assert_match 'status=5\.1\.1 mta=mta\.test\.example list=news campaign=c9' "$out" "history detail"
assert_match '"scopes":\["\*"\]' "$(ctl status gone@example.com --json)" "suppressed for all lists"
wait_log "$T/milter.log" "report: bounce recorded address=gone@example.com"
# consumed: nothing reached the sink
assert_eq "$(ls "$T/sink" | wc -l)" 0 "messages at the sink (the DSN must be consumed)"
# the next mailing to them is refused
if bulk; then fail "list mail to gone@ accepted after its bounce"; fi
assert_match "550 5\.7\.1 " "$(cat "$T/swaks.out")" "refusal for gone@"
echo "bounce end to end: ok"
