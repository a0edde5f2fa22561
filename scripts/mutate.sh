#!/bin/sh
# mutate.sh - the mutation run (issue 14; `make mutate`, not part of
# check).  Each row of the table below is a deliberate bug in a place
# users depend on: one exact text substitution in one file.  For each, a
# scratch copy of the tree (never this one) gets the bug, is built, and
# runs the suites of `make check` (the unit binaries, then
# tests/*/t-*.sh), the likeliest first, until one fails: the mutant is
# caught by the suite named.  One that passes every suite survived.  A
# pattern that is not found exactly once, or a mutant that does not
# build, fails the run: the table cannot rot silently.
#
#   sh scripts/mutate.sh [NAME...]    all mutants, or those named
#
# MUTATE_JOBS=2 runs two at a time; MUTATE_DIR keeps the copies and logs
# (default: a new directory in /tmp, removed unless a mutant survived).
# Exits 0 when every mutant was caught.
set -u
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)

# "@ NAME FILE | what the bug breaks", "% the suites to try first", then
# pairs of a "-" line (the text, \t and \n as escapes) and a "+" line
# (its replacement): one or more substitutions, all in FILE.
table() {
	cat <<'EOF'
@ nosync common/store_lmdb.c | the store opened with MDB_NOSYNC: an acknowledged write may be lost in a crash
% tests/store/t-store.sh
- MDB_NOTLS | (st->opts.read_only ?
+ MDB_NOTLS | MDB_NOSYNC | (st->opts.read_only ?
@ import-resubscribe ctl/bulk.c | import honours "action":"resubscribe" and lifts a suppression
% tests/ctl/t-import.sh
- else if (json_object_get(o, "action") != NULL && (action == NULL ||\n\t    strcmp(action, "unsubscribe") != 0))\n\t\t*why = "\\"action\\" is not \\"unsubscribe\\" (import only adds "\n\t\t    "suppressions)";\n\telse\n\t\trc = import_event(x, addr, scope, ev, why);
+ else if ((rc = import_event(x, addr, scope, ev, why)) == 0 &&\n\t    action != NULL && strcmp(action, "resubscribe") == 0)\n\t\tev->action = STORE_RESUBSCRIBE;
@ tag-unchecked common/token.c | the GCM tag is not checked: a forged or altered token opens
% build/tests/test_token build/tests/test_forgery
- if (EVP_DecryptFinal_ex(ctx, pt + n, &fin) != 1) {
+ if (EVP_DecryptFinal_ex(ctx, pt + n, &fin) != 1 && 0) {
@ all-ignored common/store_rec.c | the suppression check ignores "*" (unsubscribed from all lists)
% build/tests/test_store
- if (slen == 1 && scope[0] == '*') {
+ if (slen == 1 && scope[0] == '#') {
@ untrusted-outbound milter/callbacks.c | the outbound role adds headers for untrusted clients
% tests/milter/t-milter.sh
- c->msg.trusted = c->internal ||
+ c->msg.trusted = 1 || c->internal ||
@ mailto-ack-unrecorded common/policy.c | a mailto reply is acknowledged (250, discarded) when the store did not record it
% build/tests/test_policy tests/milter/t-milter.sh
- if ((rc = store_record(st, &ev, &changed)) != STORE_OK) {\n\t\tpolicy_store_failed(e, "inbound", rc, 1);\n\t\treturn;\n\t}
+ if ((rc = store_record(st, &ev, &changed)) != STORE_OK)\n\t\tchanged = 1;
@ repeat-writes common/store_rec.c | a repeated unsubscribe writes history again (anyone with one newsletter grows the store)
% build/tests/test_store tests/http/t-http.sh
- if (ev->action != STORE_UNSUBSCRIBE || !event_ok(ev))\n\t\treturn 0;
+ if (ev->action != STORE_UNSUBSCRIBE || !event_ok(ev) || 1)\n\t\treturn 0;
@ identity-skipped common/store_lmdb.c | the files' identity is not checked: writes go into a removed data.mdb or beside a second lock.mdb
% tests/store/t-store.sh
- return d.dev == st->data_id.dev && d.ino == st->data_id.ino &&\n\t    l.dev == st->lock_id.dev && l.ino == st->lock_id.ino;
+ return (d.dev == st->data_id.dev && d.ino == st->data_id.ino &&\n\t    l.dev == st->lock_id.dev && l.ino == st->lock_id.ino) || 1;
@ storefail-accept common/policy.c | a store failure accepts the message instead of tempfailing it
% build/tests/test_policy tests/milter/t-milter.sh
- \tif (tempfail)\n
+ \tif (tempfail && 0)\n
@ get-writes httpd/routes.c | the landing page GET records an unsubscribe (link scanners unsubscribe people)
% tests/http/t-http.sh
- return get ? landing(h, c, url, &tc) : unsubscribe(h, c, url, &tc, r);
+ if (get)\n\t\tsnprintf(r->one_click, sizeof(r->one_click), "One-Click");\n\treturn get && 0 ? landing(h, c, url, &tc) :\n\t    unsubscribe(h, c, url, &tc, r);
@ rcpt-cap-tempfail common/policy.c | the 1000-recipient cap tempfails plain mail
% build/tests/test_policy tests/milter/t-milter.sh
- m->n_over++;\n\t\treturn 0;
+ m->n_over++;\n\t\treturn -1;
@ log-unescaped common/log.c | control characters from the network reach the log unescaped
% tests/http/t-http.sh
- int ctl = c < 0x20 || c == 0x7f;
+ int ctl = c == 0x7f;
@ bounce-untokened common/report.c | a bounce is recorded from Final-Recipient without a token of ours
% build/tests/test_report tests/milter/t-report-store.sh
- \tif (r->found)\n\t\treport_classify(r, r->claims.address);\n\treturn REPORT_OK;
+ \tif (!r->found && r->n_rcpt > 0 && r->rcpt[0].address[0] != '\\0') {\n\t\tr->found = 1;\n\t\tsnprintf(r->claims.address, sizeof(r->claims.address), "%s",\n\t\t    r->rcpt[0].address);\n\t}\n\tif (r->found)\n\t\treport_classify(r, r->claims.address);\n\treturn REPORT_OK;
@ except-ignored common/store_rec.c | an exception to "*" (one list resubscribed) is not honoured
% build/tests/test_prefs build/tests/test_store
- else if (ex == 0)\n\t\t\t\tfound = STORE_SCOPE_ALL;
+ else if (ex >= 0)\n\t\t\t\tfound = STORE_SCOPE_ALL;
@ post-without-https common/policy.c | List-Unsubscribe-Post is added with no https URI to POST to
% build/tests/test_policy tests/milter/t-milter.sh
- e->add_lup = cfg->url[0] != '\\0';
+ e->add_lup = 1;
@ journal-unreplayed common/store_journal.c | a stopped process's journal is never replayed: mailto references it acknowledged are lost
% build/tests/test_journal tests/e2e/t-crash.sh
- \t\treplay_one(st, path, hidden);
+ \t\tif (hidden)\n\t\t\treplay_one(st, path, hidden);
@ journal-taken common/store_journal.c | a live process's journal is replayed and removed by another: its later references go to a removed file
% build/tests/test_journal
- if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &a) < 0 ||
+ if (fstat(fd, &a) < 0 ||
@ journal-unflushed milter/main.c | the milter stops without committing its journal: every restart replays it and warns
% tests/e2e/t-crash.sh
- \tstore_ref_flush(the_store);
+ \t(void)the_store;
EOF
}

# Apply mutant $1 to the tree in directory $2 (or, with $2 empty, only
# check that its pattern is found exactly once here).
apply() {
	table | perl -e '
		my ($name, $dir) = @ARGV;
		my ($file, $in, @from, @to);
		while (<STDIN>) {
			chomp;
			if (/^@ (\S+) (\S+)/) { $in = $1 eq $name; $file = $2 if $in; next }
			next unless $in;
			my ($k, $t) = /^([-+]) (.*)$/ or next;
			$t =~ s/\\(.)/$1 eq "t" ? "\t" : $1 eq "n" ? "\n" : $1/ge;
			push @{$k eq "-" ? \@from : \@to}, $t;
		}
		die "mutate: no mutant $name\n" unless defined $file && @from == @to;
		open(my $fh, "<", $file) or die "mutate: $file: $!\n";
		my $src = do { local $/; <$fh> };
		for my $i (0 .. $#from) {
			my $n = () = $src =~ /\Q$from[$i]\E/g;
			die "mutate: $name: a pattern is in $file $n times, not once\n"
			    unless $n == 1;
			$src =~ s/\Q$from[$i]\E/$to[$i]/;
		}
		exit 0 if $dir eq "";
		open($fh, ">", "$dir/$file") or die "mutate: $dir/$file: $!\n";
		print $fh $src;
	' "$1" "${2:-}"
}

# The suites of make check (tests/run.sh), those named first.
suites() {
	for t in "$@" build/tests/test_* tests/*/t-*.sh; do
		case " $seen " in *" $t "*) continue ;; esac
		seen="$seen $t"
		echo "$t"
	done
}

# Build mutant $1 in a copy and run the suites; writes $work/$1/result.
run_one() {
	name=$1 d=$work/$1 seen=""
	rm -rf "$d" && mkdir -p "$d/tree" || return 1
	git ls-files -z | tar --null -T - -cf - | tar -C "$d/tree" -xf - &&
	    apply "$name" "$d/tree" && (cd "$d/tree" && git init -q &&
	    git add -A && git -c user.name=mutate -c user.email=mutate@localhost \
	    commit -qm "mutant $name") || return 1
	# what make deps put in ignored directories (node_modules), shared
	git ls-files --others --ignored --exclude-standard --directory |
	    grep -v '^build/$' | grep -v '^tests/out/$' | while read -r p; do
		ln -s "$root/${p%/}" "$d/tree/${p%/}"
	done
	first=$(table | sed -n "/^@ $name /,/^@ /s/^% //p")
	units=$(ls tests/unit/test_*.c | sed 's#tests/unit/#build/tests/#; s#\.c$##')
	# shellcheck disable=SC2086
	if ! make -C "$d/tree" -j2 all $units build/tests/synccount.so \
	    >"$d/build.log" 2>&1; then
		echo "broken (does not build: $d/build.log)" >"$d/result"
		return 1
	fi
	# shellcheck disable=SC2086
	for t in $(cd "$d/tree" && suites $first); do
		log=$d/$(echo "$t" | tr / _).log
		case "$t" in
		*.sh) (cd "$d/tree" && timeout -k 10 "${TEST_TIMEOUT:-1800}" \
		    sh "$t") >"$log" 2>&1 ;;
		*) (cd "$d/tree" && timeout -k 10 "${TEST_TIMEOUT:-1800}" \
		    "$t") >"$log" 2>&1 ;;
		esac
		case $? in
		0|77) ;;
		*) echo "caught by $t" >"$d/result"; rm -rf "$d/tree"; return 0 ;;
		esac
	done
	echo "SURVIVED every suite" >"$d/result"
}

case "${1:-}" in
--one) work=$2; run_one "$3"; exit ;;
esac
names=${*:-$(table | sed -n 's/^@ \([^ ]*\) .*/\1/p')}
for n in $names; do
	apply "$n" "" || exit 2
done
work=${MUTATE_DIR:-$(mktemp -d /tmp/mutate.XXXXXX)}
mkdir -p "$work" || exit 2
start=$(date +%s)
for n in $names; do echo "$n"; done |
    xargs -P "${MUTATE_JOBS:-1}" -I{} sh "$root/scripts/mutate.sh" --one "$work" {}
caught=0 total=0 status=0
for n in $names; do
	total=$((total + 1))
	r=$(cat "$work/$n/result" 2>/dev/null || echo "no result")
	case $r in
	caught*) caught=$((caught + 1)) ;;
	*) status=1 ;;
	esac
	what=$(table | sed -n "s/^@ $n [^|]*| //p")
	printf '%-22s %s\n%22s (%s)\n' "$n" "$r" "" "$what"
done
echo "caught $caught of $total in $(( $(date +%s) - start )) s"
[ "$status" -eq 0 ] && [ -z "${MUTATE_DIR:-}" ] && rm -rf "$work"
exit "$status"
