#!/bin/sh
# Smoke test of the e2e harness; needs no unsub-milter.  swaks -> private
# Postfix -> opendkim -> smtp-sink, with a message that already carries
# List-Unsubscribe and List-Unsubscribe-Post.  Signed with our documented
# opendkim lines (conf/opendkim.conf), h= covers and oversigns both, the
# relayed copy verifies offline, and altering List-Unsubscribe-Post (or
# adding a List-Unsubscribe) breaks it.  A second smtpd listener signs with
# opendkim's default header list: there the altered List-Unsubscribe-Post
# still verifies, which is why those lines matter.
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_require opendkim
e2e_setup
e2e_sink_start
e2e_opendkim_start s1 sender.example unsub
e2e_opendkim_start plain sender.example default
e2e_postfix_listen DEFAULTS "unix:$(e2e_dkim_sock plain)"
e2e_postfix_start "unix:$(e2e_dkim_sock s1)"

LU='<https://unsub.example.com/u/abc>, <mailto:unsubscribe@unsub.example.com>'
LUP='List-Unsubscribe=One-Click'

# bulk N OUT: send the bulk message, wait for it as the sink's Nth, write
# the message as relayed to OUT.
bulk() {
	e2e_send_expect 250 'queued as' --from news@sender.example \
	    --to reader@example.com --header "From: News <news@sender.example>" \
	    --header "Subject: smoke $1" --header "List-Unsubscribe: $LU" \
	    --header "List-Unsubscribe-Post: $LUP" --body "Hello reader"
	e2e_sink_wait "$1"
	e2e_relayed "$(e2e_sink_last)" >"$2"
	e2e_log "relayed message $1 at the sink ($(e2e_sink_rcpts "$(e2e_sink_last)"))"
}

# covered NAME H: how often header NAME is in the h= list H.
covered() { printf '%s\n' "$2" | sed 's/^h=//' | tr ':A-Z' '\na-z' | grep -cx "$1" || true; }

# does_verify FILE: dkimpy's verdict on FILE (0 pass, 1 fail).
does_verify() { e2e_dkim_verify "$1" >/dev/null 2>&1; }

# 1. Our opendkim lines.
signed=$E2E_DIR/signed.eml
bulk 1 "$signed"
e2e_assert_header_count 1 List-Unsubscribe "$signed"
e2e_assert_header_count 1 List-Unsubscribe-Post "$signed"
e2e_assert_header_count 1 DKIM-Signature "$signed"
e2e_assert_eq "$(e2e_header List-Unsubscribe "$signed")" "$LU" "relayed List-Unsubscribe"
e2e_assert_eq "$(e2e_header List-Unsubscribe-Post "$signed")" "$LUP" "relayed List-Unsubscribe-Post"
h=$(e2e_dkim_verify "$signed") || e2e_fail "the relayed message does not verify: $h"
e2e_log "signed, verifies: $h"
# oversigned: named once more than present, so none can be added
e2e_assert_eq "$(covered list-unsubscribe "$h")" 2 "list-unsubscribe in $h"
e2e_assert_eq "$(covered list-unsubscribe-post "$h")" 2 "list-unsubscribe-post in $h"

sed "s/^List-Unsubscribe-Post: .*/List-Unsubscribe-Post: List-Unsubscribe=Other/" \
    "$signed" >"$E2E_DIR/altered-post.eml"
! does_verify "$E2E_DIR/altered-post.eml" ||
	e2e_fail "an altered List-Unsubscribe-Post still verifies"
sed "s#^List-Unsubscribe: <https://unsub.example.com/u/abc>#List-Unsubscribe: <https://evil.example.net/u/abc>#" \
    "$signed" >"$E2E_DIR/altered-url.eml"
! does_verify "$E2E_DIR/altered-url.eml" ||
	e2e_fail "an altered List-Unsubscribe URL still verifies"
awk '/^List-Unsubscribe:/ && !done { print "List-Unsubscribe: <mailto:evil@example.net>"; done = 1 } { print }' \
    "$signed" >"$E2E_DIR/added.eml"
! does_verify "$E2E_DIR/added.eml" ||
	e2e_fail "a message with a List-Unsubscribe added after signing still verifies"
e2e_log "altered List-Unsubscribe-Post, altered URL, added List-Unsubscribe: all fail"

# 2. Control: opendkim's default header list, same message.
E2E_SEND_PORT=$E2E_PORT_DEFAULTS
plain=$E2E_DIR/plain.eml
bulk 2 "$plain"
hp=$(e2e_dkim_verify "$plain") || e2e_fail "the default-signed message does not verify: $hp"
e2e_log "default-signed: $hp"
[ "$(covered list-unsubscribe-post "$hp")" = 0 ] ||
	e2e_fail "opendkim's default h= now covers list-unsubscribe-post ($hp): update conf/opendkim.conf's comment and this control"
sed "s/^List-Unsubscribe-Post: .*/List-Unsubscribe-Post: List-Unsubscribe=Other/" \
    "$plain" >"$E2E_DIR/plain-altered.eml"
does_verify "$E2E_DIR/plain-altered.eml" ||
	e2e_fail "control: with opendkim's defaults an altered List-Unsubscribe-Post should still verify"
e2e_log "control: with opendkim's defaults the altered List-Unsubscribe-Post still verifies"

e2e_assert_eq "$(e2e_sink_count)" 2 "messages at the sink"
e2e_assert_no_grep '(fatal|panic|error):' "$(e2e_postfix_log)" "postfix log"
e2e_log "postfix smoke: ok"
