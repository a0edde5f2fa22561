#!/bin/sh
# make lint: static checks a reviewer would run, not part of make check.
# cppcheck, gcc -fanalyzer (with the build's CFLAGS, from the Makefile), and
# the size limits: a .c file of at most FILE_MAX lines, a function body of at
# most FUNC_MAX (counted between a function's "{" and "}" in column 0).
# Prints each finding and exits 1 if there was any.
cd "$(dirname "$0")/.." || exit 2
FILE_MAX=600
FUNC_MAX=80
DIRS="common milter httpd ctl sync"
SRCS=$(for d in $DIRS; do ls "$d"/*.c; done)
bad=0

echo "cppcheck"
cppcheck --enable=warning,performance,portability -q --error-exitcode=1 \
    $DIRS || bad=1

echo "gcc -fanalyzer"
for f in $SRCS; do
	extra=""
	case $f in
	httpd/*|milter/*) extra=$MHD_CFLAGS ;;
	sync/*) extra="$MHD_CFLAGS $(pkg-config --cflags libpq)" ;;
	ctl/*) extra="$(pkg-config --cflags libpq) -Isync" ;;
	esac
	# shellcheck disable=SC2086
	gcc $CFLAGS $extra -Icommon -fanalyzer -c -o /dev/null "$f" || bad=1
done

echo "sizes (files <= $FILE_MAX lines, functions <= $FUNC_MAX)"
for f in $SRCS; do
	n=$(wc -l <"$f")
	if [ "$n" -gt "$FILE_MAX" ]; then
		echo "$f: $n lines"
		bad=1
	fi
done
awk -v max="$FUNC_MAX" '
	/^[A-Za-z_].*\(/ { head = $0 }
	/^\{/ { start = FNR }
	/^\}/ && start {
		n = FNR - start - 1
		if (n > max) {
			match(head, /[A-Za-z_][A-Za-z0-9_]*\(/)
			printf "%s:%d: %s has %d lines\n", FILENAME, start,
			    substr(head, RSTART, RLENGTH - 1), n
			found = 1
		}
		start = 0
	}
	END { exit found }' $SRCS || bad=1

[ "$bad" -eq 0 ] && echo "lint: clean"
exit "$bad"
