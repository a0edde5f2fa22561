#!/bin/sh
# Run every test: the unit binaries given as arguments, then each script
# suite tests/*/t-*.sh.  A script exits 0 (pass), 77 (skipped, with a reason)
# or anything else (fail).  Prints "N passed, N failed, N skipped" and exits
# non-zero on any failure.
cd "$(dirname "$0")/.." || exit 2
out=tests/out
rm -rf "$out" && mkdir -p "$out"
pass=0 fail=0 skip=0 failed=""
for t in "$@" tests/*/t-*.sh; do
	[ -e "$t" ] || continue
	name=$(echo "$t" | tr / _)
	start=$(date +%s)
	case "$t" in
	*.sh) sh "$t" >"$out/$name.log" 2>&1 ;;
	*) "$t" >"$out/$name.log" 2>&1 ;;
	esac
	rc=$?
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
