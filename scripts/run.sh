#!/bin/sh
# make run: unsub-milter in the foreground with a default config, key and
# store under ./var (made on first use).  Stop it with ^C.
set -eu
cd "$(dirname "$0")/.."
V=$(pwd)/var
mkdir -p "$V/db"
if [ ! -f "$V/unsub-milter.conf" ]; then
	cat >"$V/unsub-milter.conf" <<EOC
Socket unix:$V/milter.sock
SocketMode 0666
KeyFile $V/keys
Database $V/db
UnsubscribeMailbox unsubscribe@unsub.example.com
UnsubscribeURL https://unsub.example.com/u/
InternalHosts 127.0.0.1, ::1
HTTPListen 127.0.0.1:8080
HTTPTemplates $(pwd)/conf/templates
EOC
	echo "wrote $V/unsub-milter.conf"
fi
[ -f "$V/keys" ] || build/unsubctl -c "$V/unsub-milter.conf" genkey
if [ "$(id -u)" = 0 ]; then	# the milter will not run as root
	grep -q '^User ' "$V/unsub-milter.conf" ||
		echo "User nobody" >>"$V/unsub-milter.conf"
	chmod 0755 "$V"
	chown nobody "$V/db" "$V/keys"
fi
echo "unsub-milter on unix:$V/milter.sock; try: build/unsubctl -c $V/unsub-milter.conf token you@example.com --list news"
exec build/unsub-milter -f -c "$V/unsub-milter.conf"
