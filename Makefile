# unsub-milter: plain Makefile. `make` builds into build/, `make check` tests.
prefix    ?= /usr/local
sbindir   ?= $(prefix)/sbin
mandir    ?= $(prefix)/share/man
docdir    ?= $(prefix)/share/doc/unsub-milter
sysconfdir ?= /etc
unitdir   ?= /lib/systemd/system
DESTDIR   ?=

CC        ?= cc
PKGS      := openssl lmdb jansson
CFLAGS    ?= -O2 -g
CFLAGS    += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_C  := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lssl -lcrypto -llmdb -ljansson) -pthread
ifeq ($(SAN),1)
CFLAGS    += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS   += -fsanitize=address,undefined
endif

B         := build
COMMON    := $(patsubst common/%.c,$(B)/common/%.o,$(wildcard common/*.c))
MILTER    := $(patsubst milter/%.c,$(B)/milter/%.o,$(wildcard milter/*.c))
HTTPD     := $(patsubst httpd/%.c,$(B)/httpd/%.o,$(wildcard httpd/*.c))
CTL       := $(patsubst ctl/%.c,$(B)/ctl/%.o,$(wildcard ctl/*.c))
SYNC      := $(patsubst sync/%.c,$(B)/sync/%.o,$(wildcard sync/*.c))
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null)
PQ_LIBS   := $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
UNITS     := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
BENCHES   := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))
FUZZERS   := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
PROGS     := $(B)/unsub-milter $(B)/unsubctl $(if $(HTTPD),$(B)/unsub-httpd) \
             $(B)/unsub-sync

all: $(PROGS)

$(B)/common/%.o: common/%.c $(B)/flags $(wildcard common/*.h) | $(B)/common
	$(CC) $(CPPFLAGS) $(CFLAGS) -Icommon -c -o $@ $<
$(B)/milter/%.o: milter/%.c $(B)/flags $(wildcard common/*.h milter/*.h) | $(B)/milter
	$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags libmicrohttpd) -Icommon -c -o $@ $<
$(B)/httpd/%.o: httpd/%.c $(B)/flags $(wildcard common/*.h httpd/*.h) | $(B)/httpd
	$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags libmicrohttpd) -Icommon -c -o $@ $<
$(B)/ctl/%.o: ctl/%.c $(B)/flags $(wildcard common/*.h ctl/*.h sync/*.h) | $(B)/ctl
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PQ_CFLAGS) -Icommon -Isync -c -o $@ $<
$(B)/sync/%.o: sync/%.c $(B)/flags $(wildcard common/*.h sync/*.h) | $(B)/sync
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PQ_CFLAGS) $(CURL_CFLAGS) $(shell pkg-config --cflags libmicrohttpd) -Icommon -c -o $@ $<

$(B)/libunsub.a: $(COMMON)
	rm -f $@ && ar rcs $@ $^

$(B)/unsub-milter: $(MILTER) $(B)/libunsub.a
	$(CC) $(LDFLAGS) -o $@ $^ -lmilter $(shell pkg-config --libs libmicrohttpd) $(LDLIBS_C)
$(B)/unsub-httpd: $(HTTPD) $(B)/libunsub.a
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libmicrohttpd) $(LDLIBS_C)
$(B)/unsubctl: $(CTL) $(B)/sync/fleet.o $(B)/libunsub.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PQ_LIBS) $(LDLIBS_C)
$(B)/unsub-sync: $(SYNC) $(B)/libunsub.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PQ_LIBS) $(CURL_LIBS) $(shell pkg-config --libs libmicrohttpd) $(LDLIBS_C)

$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(B)/libunsub.a $(B)/flags | $(B)/tests
	$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags check) -Icommon -Itests/unit -o $@ $< \
	    $(B)/libunsub.a $(LDFLAGS) $(shell pkg-config --libs check) $(LDLIBS_C)
# The sync-counting LD_PRELOAD shim of tests/store/t-store.sh (tests
# only: no sanitizer, which must come first in a process).
$(B)/tests/synccount.so: tests/shim/synccount.c | $(B)/tests
	$(CC) -O2 -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -shared -fPIC \
	    -o $@ $< -ldl
$(B)/bench/%: bench/%.c $(B)/libunsub.a $(B)/flags | $(B)/bench
	$(CC) $(CPPFLAGS) $(CFLAGS) -Icommon -o $@ $< $(B)/libunsub.a $(LDFLAGS) -lmilter \
	    $(shell pkg-config --libs libmicrohttpd) $(LDLIBS_C)

# libFuzzer targets: clang with ASan and UBSan over the common/ sources.
$(B)/fuzz/%: tests/fuzz/%.c $(wildcard common/*.c common/*.h) | $(B)/fuzz
	clang -g -O1 -std=c11 -D_GNU_SOURCE -pthread -Icommon \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ $< $(wildcard common/*.c) $(if $(findstring http,$*),httpd/page.c) \
	    $(LDLIBS_C)

# What everything was built with: a change of flags (make SAN=1 after a
# plain build) rebuilds everything instead of reusing other objects.
$(B)/flags: FORCE
	@mkdir -p $(B)
	@f='$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS)'; \
	    [ "$$(cat $@ 2>/dev/null)" = "$$f" ] || echo "$$f" >$@
FORCE:

$(B)/common $(B)/milter $(B)/httpd $(B)/ctl $(B)/sync $(B)/tests $(B)/bench $(B)/fuzz:
	mkdir -p $@

# Every test: Check unit tests, then the script suites (golden unsubctl,
# miltertest against the real daemon, end to end through a private Postfix).
check: all $(UNITS) $(B)/tests/synccount.so
	sh tests/run.sh $(UNITS)

# Each fuzzer for FUZZ_SECONDS, from its seed corpus; any crash, leak or
# sanitizer report fails.
fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do n=$${f##*/fuzz_}; \
	    mkdir -p $(B)/fuzz/corpus-$$n && \
	    echo "fuzz $$n for $(FUZZ_SECONDS)s" && \
	    $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
	        -print_final_stats=1 $(B)/fuzz/corpus-$$n tests/fuzz/corpus/$$n \
	        >$(B)/fuzz/$$n.log 2>&1 || { tail -40 $(B)/fuzz/$$n.log; exit 1; }; \
	    grep -E "stat::number_of_executed_units" $(B)/fuzz/$$n.log; \
	done

# Static analysis and size limits (not part of check): see scripts/lint.sh.
lint:
	CFLAGS='$(CFLAGS)' MHD_CFLAGS='$(shell pkg-config --cflags libmicrohttpd)' \
	    sh scripts/lint.sh

bench: all $(BENCHES)
	sh bench/run.sh
	sh bench/fleet.sh
	sh bench/events.sh

# The mutation run (not part of check): see scripts/mutate.sh.
mutate:
	sh scripts/mutate.sh

deps:
	sh .ci/deps.sh

# The whole loop on loopback for a newcomer (installs what is missing).
demo: deps all
	sh scripts/demo.sh

# Two hosts and one PostgreSQL: an unsubscribe on one refused on the other.
demo-fleet: all
	sh scripts/demo-fleet.sh

# The milter alone in the foreground, with a config, key and store in ./var.
run: all
	sh scripts/run.sh

# The programs, pages, units, templates, an example config beside where
# the real one goes, and README with the conf/ examples.
install: all
	install -d $(DESTDIR)$(sbindir) $(DESTDIR)$(mandir)/man8 $(DESTDIR)$(mandir)/man5 \
	    $(DESTDIR)$(sysconfdir)/unsub-milter/templates $(DESTDIR)$(unitdir) \
	    $(DESTDIR)$(docdir)/examples
	install -m 0755 $(PROGS) $(DESTDIR)$(sbindir)/
	install -m 0644 man/*.8 $(DESTDIR)$(mandir)/man8/
	install -m 0644 man/*.5 $(DESTDIR)$(mandir)/man5/
	install -m 0644 conf/unsub-milter.conf $(DESTDIR)$(sysconfdir)/unsub-milter/unsub-milter.conf.example
	install -m 0644 conf/templates/*.html $(DESTDIR)$(sysconfdir)/unsub-milter/templates/
	install -m 0644 README.md doc/openapi.json conf/grafana-unsub.json \
	    $(DESTDIR)$(docdir)/
	install -m 0644 conf/*.conf conf/*.cf conf/*.mc $(DESTDIR)$(docdir)/examples/
	sed 's#@sbindir@#$(sbindir)#g; s#@sysconfdir@#$(sysconfdir)#g' \
	    conf/unsub-milter.service >$(DESTDIR)$(unitdir)/unsub-milter.service
	sed 's#@sbindir@#$(sbindir)#g; s#@sysconfdir@#$(sysconfdir)#g' \
	    conf/unsub-httpd.service >$(DESTDIR)$(unitdir)/unsub-httpd.service
	sed 's#@sbindir@#$(sbindir)#g; s#@sysconfdir@#$(sysconfdir)#g' \
	    conf/unsub-sync.service >$(DESTDIR)$(unitdir)/unsub-sync.service

clean:
	rm -rf $(B)

.PHONY: all check lint bench mutate fuzz deps demo demo-fleet run install clean FORCE
