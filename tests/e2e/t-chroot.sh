#!/bin/sh
# The documented path on a stock Debian Postfix: smtpd chrooted in the
# queue directory (chroot=y, as Debian's master.cf), the milters named by
# conf/postfix-main.cf's relative smtpd_milters line, unsub-milter on
# conf/unsub-milter.conf's Socket (moved into the private queue directory)
# as User nobody:postfix with SocketMode 0660, opendkim with
# conf/opendkim.conf's lines.  Bulk mail leaves with both unsubscribe
# headers, a DKIM signature whose h= oversigns From and covers them, and
# verifies.
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_require opendkim milter
e2e_setup
getent group postfix >/dev/null || e2e_skip "no postfix group"
TOP=$E2E_TOP
milters=$(sed -n 's/^smtpd_milters = //p' "$TOP/conf/postfix-main.cf")
socket=$(sed -n 's/^Socket //p' "$TOP/conf/unsub-milter.conf")
e2e_assert_match '^unix:[^/]' "$milters" "postfix-main.cf names the sockets relative to the queue directory"
e2e_assert_match '^unix:/var/spool/postfix/' "$socket" "unsub-milter.conf's Socket is in Postfix's spool"

e2e_sink_start
e2e_opendkim_start s1 sender.example unsub
E2E_PF_SMTPD_CHROOT=y e2e_postfix_start "$milters"
Q=$E2E_PF_ROOT/queue
postconf -c "$E2E_PF" -M "127.0.0.1:$E2E_SMTP_PORT/inet" | grep -Eq ' inet +n +- +y ' ||
	e2e_fail "smtpd is not chrooted: $(postconf -c "$E2E_PF" -M "127.0.0.1:$E2E_SMTP_PORT/inet")"

# opendkim's socket where the relative name points (a hard link: the same
# socket under a second name, inside the chroot)
d=${milters#*unix:}; d=${d#*unix:}
mkdir -p "$Q/$(dirname "$d")"
ln "$E2E_DKIM_SOCK" "$Q/$d"

# the milter as README says: the socket directory made for it, its key
# and store owned by its user
install -d -o nobody -g postfix -m 0750 "$Q/unsub-milter"
mkdir -p "$E2E_DIR/db"
cat >"$E2E_DIR/unsub.conf" <<EOC
Socket $(printf '%s' "$socket" | sed "s#/var/spool/postfix#$Q#")
User nobody:postfix
SocketMode 0660
KeyFile $E2E_DIR/keys
Database $E2E_DIR/db
UnsubscribeMailbox unsubscribe@unsub.example.com
UnsubscribeURL https://unsub.example.com/u/
InternalHosts 127.0.0.1
EOC
"$TOP/build/unsubctl" -c "$E2E_DIR/unsub.conf" genkey >/dev/null
chown nobody "$E2E_DIR/db" "$E2E_DIR/keys"
e2e_assert_eq "$("$TOP/build/unsub-milter" -n -c "$E2E_DIR/unsub.conf")" \
    "configuration OK" "-n on the chroot config"
e2e_milter_start "$E2E_DIR/unsub.conf"
s=$(stat -c '%U:%G %a' "$Q/unsub-milter/milter.sock")
e2e_assert_eq "$s" "nobody:postfix 660" "socket owner, group and mode"

e2e_send_expect 250 'queued as' --from news@sender.example --to reader@example.com \
    --header "From: News <news@sender.example>" --header "Subject: Weekly" \
    --header "X-Unsub-List: weekly" --body "Hello reader"
e2e_sink_wait 1
# the smtpd that took it runs in the chroot
roots=$(for p in $(pgrep -g "$E2E_PF_MASTER" -x smtpd); do readlink "/proc/$p/root"; done)
e2e_assert_match "^$Q\$" "$roots" "an smtpd's root directory"
e2e_relayed "$(e2e_sink_last)" >"$E2E_DIR/bulk.eml"
e2e_assert_header_count 1 List-Unsubscribe "$E2E_DIR/bulk.eml"
e2e_assert_header_count 1 List-Unsubscribe-Post "$E2E_DIR/bulk.eml"
h=$(e2e_dkim_verify "$E2E_DIR/bulk.eml") || e2e_fail "DKIM does not verify: $h"
fields=$(printf '%s\n' "${h#h=}" | tr 'A-Z' 'a-z' | tr ':' '\n')
e2e_assert_eq "$(printf '%s\n' "$fields" | grep -cx from)" 2 "From in h= (signed and oversigned) of $h"
e2e_assert_eq "$(printf '%s\n' "$fields" | grep -cx list-unsubscribe)" 2 "List-Unsubscribe in h= of $h"
e2e_assert_eq "$(printf '%s\n' "$fields" | grep -cx list-unsubscribe-post)" 2 "List-Unsubscribe-Post in h= of $h"
e2e_log "chrooted smtpd -> unix:unsub-milter/milter.sock -> opendkim: signed, h=${h#h=}"
echo "chroot end to end: ok"
