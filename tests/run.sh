#!/bin/sh
# Run every test: the unit binaries given as arguments, then each script
# suite tests/*/t-*.sh.  A script exits 0 (pass), 77 (skipped, with a reason)
# or anything else (fail).  Each gets at most TEST_TIMEOUT seconds (1800),
# then fails with "timed out": a hang anywhere fails `make check` instead of
# stopping it.  Prints "N passed, N failed, N skipped" and exits non-zero on
# any failure.
cd "$(dirname "$0")/.." || exit 2
out=tests/out
rm -rf "$out" && mkdir -p "$out"
pass=0 fail=0 skip=0 failed=""
for t in "$@" tests/*/t-*.sh; do
	[ -e "$t" ] || continue
	name=$(echo "$t" | tr / _)
	start=$(date +%s)
	case "$t" in
	*.sh) timeout -k 10 "${TEST_TIMEOUT:-1800}" sh "$t" >"$out/$name.log" 2>&1 ;;
	*) timeout -k 10 "${TEST_TIMEOUT:-1800}" "$t" >"$out/$name.log" 2>&1 ;;
	esac
	rc=$?
	case $rc in
	124|137) echo "FAIL: timed out after ${TEST_TIMEOUT:-1800} s" >>"$out/$name.log" ;;
	esac
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); echo "PASS $t (${secs}s)" ;;
	77) skip=$((skip + 1)); echo "SKIP $t: $(tail -n 1 "$out/$name.log")" ;;
	*) fail=$((fail + 1)); failed="$failed $t"; echo "FAIL $t (rc $rc)"
	   tail -n 40 "$out/$name.log" | sed 's/^/    /' ;;
	esac
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
