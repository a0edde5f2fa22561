#!/bin/sh
# Install the Debian packages unsub-milter builds and tests with.
# Non-interactive and idempotent: packages already present are left alone.
set -eu
PKGS="build-essential pkg-config libmilter-dev libssl-dev liblmdb-dev lmdb-utils check
libmicrohttpd-dev postfix miltertest opendkim opendkim-tools swaks python3-dkim
curl openssl clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && { echo "deps: all installed"; exit 0; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string localhost.localdomain" | $SUDO debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $missing
