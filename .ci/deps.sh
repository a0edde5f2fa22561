#!/bin/sh
# Install the Debian packages unsub-milter builds and tests with, and the
# npm package the browser test drives Chromium with.  Non-interactive and
# idempotent: what is already present is left alone.
set -eu
PKGS="build-essential pkg-config libmilter-dev libssl-dev liblmdb-dev lmdb-utils check
libmicrohttpd-dev postfix miltertest opendkim opendkim-tools swaks python3-dkim
curl openssl clang libclang-rt-14-dev chromium wrk mandoc debhelper
postgresql libpq-dev libjansson-dev libcurl4-openssl-dev python3-jsonschema"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
# Node.js and npm: the machine's own if it has them, else Debian's.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
	echo "postfix postfix/mailname string localhost.localdomain" | $SUDO debconf-set-selections
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends $missing
fi
# playwright-core for the browser test, pinned by its package-lock.json.
cd "$(dirname "$0")/../tests/http/browser"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
echo "deps: all installed"
