# pg_kafka: top-level build. `make help` lists the targets.
#
# Three builds of the C sources, each in its own directory:
#   build/rel   gcc -O2, the daemons you run
#   build/san   gcc with ASan + UBSan, for unit tests (tests/test_*.c) and e2e
#   build/fuzz  clang with libFuzzer + ASan + UBSan, for tests/fuzz_*.c
# common/*.c (what the broker and the forwarder share) is archived once per
# build as libpgkcommon.a and linked into pg_kafka, pg_kafka_shadow, the unit
# tests and the fuzz targets; broker/ and shadow/ never compile each other.
# The PostgreSQL side (sql/ extension, decoder/ output plugin) builds with PGXS.

PG_BINDIR ?= /usr/lib/postgresql/15/bin
PG_CONFIG ?= $(PG_BINDIR)/pg_config
PKG_CONFIG ?= pkg-config
ifeq ($(origin CC),default)
CC = gcc
endif
CLANG ?= clang
PYTHON ?= /usr/bin/python3

PGPORT ?= 25432
REGRESS_PORT ?= 25433
LISTEN ?= 0.0.0.0:9092
ADVERTISED ?=
# The broker's /metrics, /healthz and /readyz under make run (empty: off).
METRICS_LISTEN ?= 127.0.0.1:9404
# make run's SASL_SSL listener (SCRAM), with a development CA in .pgdata/tls/ (empty: off).
TLS_LISTEN ?= localhost:9093
RUN_ARGS ?=
FUZZ_SECONDS ?= 60
NPROC := $(shell nproc 2>/dev/null || echo 2)

# V=1 shows full compiler command lines.
V ?= 0
ifeq ($(V),0)
Q := @
msg = @printf '  %-5s %s\n' '$(1)' '$(2)'
else
Q :=
msg :=
endif

# ---- flags -------------------------------------------------------------------

PKGS := libevent libevent_openssl openssl zlib liblz4 libzstd
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
PQ_CFLAGS := -I$(shell $(PG_CONFIG) --includedir 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

WARN := -Wall -Wextra -Werror
CORE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Icommon $(PQ_CFLAGS) $(PKG_CFLAGS) -MMD -MP
BASE_CFLAGS := $(CORE_CFLAGS) -Ibroker
LIBS := $(PKG_LIBS) -lpq -lsnappy -lm

REL_CFLAGS := -O2 -g $(BASE_CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer $(SAN_FLAGS) $(BASE_CFLAGS)
FUZZ_SAN := address,undefined
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=undefined $(BASE_CFLAGS)

# Sanitizer settings for running what build/san and build/fuzz produce.
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

# ---- sources -----------------------------------------------------------------

BROKER_SRCS := $(sort $(wildcard broker/*.c))
LIB_SRCS := $(filter-out broker/main.c,$(BROKER_SRCS))
COMMON_SRCS := $(sort $(wildcard common/*.c))
UNIT_SRCS := $(sort $(wildcard tests/test_*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz_*.c))

REL_OBJS := $(BROKER_SRCS:broker/%.c=build/rel/obj/%.o)
SAN_OBJS := $(BROKER_SRCS:broker/%.c=build/san/obj/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:broker/%.c=build/san/obj/%.o)
FUZZ_LIB_OBJS := $(LIB_SRCS:broker/%.c=build/fuzz/obj/%.o)
COMMON_LIBS := build/rel/libpgkcommon.a build/san/libpgkcommon.a build/fuzz/libpgkcommon.a

UNIT_BINS := $(UNIT_SRCS:tests/%.c=build/san/tests/%)
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz_%.c=%)
FUZZ_BINS := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)

.PHONY: all rel san unit-tests fuzz-build decoder extension install run psql \
	test test-steps fuzz fuzz-smoke setup clean help
.DELETE_ON_ERROR:

all: rel decoder extension

help:
	@echo 'make               broker (build/rel/pg_kafka), decoder/ and sql/'
	@echo 'make san           broker with ASan+UBSan (build/san/pg_kafka)'
	@echo 'make shadow        shadow forwarder and mock cluster (build/{rel,san}/pg_kafka_shadow, mock_cluster)'
	@echo 'make unit-tests    build/san/tests/test_* from tests/test_*.c'
	@echo 'make fuzz-build    build/fuzz/fuzz_* from tests/fuzz_*.c (clang, libFuzzer)'
	@echo 'make fuzz          run every fuzz target FUZZ_SECONDS (default 60) seconds'
	@echo 'make fuzz-smoke    run every fuzz target 15 seconds'
	@echo 'make install       install the extension and the output plugin (root)'
	@echo 'make run           PostgreSQL in .pgdata on PGPORT ($(PGPORT)) + broker on LISTEN ($(LISTEN)),'
	@echo '                   SASL_SSL on TLS_LISTEN ($(TLS_LISTEN), CA in .pgdata/tls/ca.pem),'
	@echo '                   metrics on METRICS_LISTEN ($(METRICS_LISTEN))'
	@echo 'make psql          psql on the make-run database'
	@echo 'make test          everything CI runs: unit, pg_regress, fuzz smoke, e2e'
	@echo 'make chaos         fault injection (e2e/test_chaos.py) and its table'
	@echo 'make setup         install missing Debian/npm packages (deploy/setup.sh)'
	@echo 'make clean'

setup:
	@deploy/setup.sh

# ---- the broker ----------------------------------------------------------------

rel: build/rel/pg_kafka build/rel/pg_kafka_shadow build/rel/mock_cluster
san: build/san/pg_kafka build/san/pg_kafka_shadow build/san/mock_cluster

build/rel/pg_kafka: $(REL_OBJS) build/rel/libpgkcommon.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $^ $(LIBS)

build/rel/obj/%.o: broker/%.c | build/rel/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(REL_CFLAGS) -c -o $@ $<

build/san/pg_kafka: $(SAN_OBJS) build/san/libpgkcommon.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $^ $(LIBS)

build/san/obj/%.o: broker/%.c | build/san/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(SAN_CFLAGS) -c -o $@ $<

# Tests link against an archive of every broker object but main.o: the linker
# takes only the objects a test needs, so a test may replace a module (pool,
# server, ...) by defining its functions itself.
build/san/libpgk.a: $(SAN_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

build/fuzz/libpgk.a: $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

build/rel/obj build/san/obj build/san/tests build/fuzz/obj:
	$(Q)mkdir -p $@

# ---- common/: one archive per build ---------------------------------------------

build/rel/libpgkcommon.a: $(COMMON_SRCS:common/%.c=build/rel/common/%.o)
build/san/libpgkcommon.a: $(COMMON_SRCS:common/%.c=build/san/common/%.o)
build/fuzz/libpgkcommon.a: $(COMMON_SRCS:common/%.c=build/fuzz/common/%.o)
$(COMMON_LIBS):
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

build/rel/common/%.o: common/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O2 -g $(CORE_CFLAGS) -c -o $@ $<

build/san/common/%.o: common/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O1 -g -fno-omit-frame-pointer $(SAN_FLAGS) $(CORE_CFLAGS) -c -o $@ $<

build/fuzz/common/%.o: common/%.c
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
		$(CORE_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

# ---- the shadow forwarder (shadow/, docs/SHADOW.md) and the mock cluster -------

SHADOW_SRCS := $(filter-out shadow/mock_cluster.c,$(sort $(wildcard shadow/*.c)))
SHADOW_LIBS := -lrdkafka -lpq -levent
SHADOW_CFLAGS := $(CORE_CFLAGS) -Ishadow

.PHONY: shadow
shadow: build/rel/pg_kafka_shadow build/rel/mock_cluster build/san/pg_kafka_shadow build/san/mock_cluster

build/rel/pg_kafka_shadow: $(SHADOW_SRCS:shadow/%.c=build/rel/shadow/%.o) build/rel/libpgkcommon.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $^ $(SHADOW_LIBS)

build/san/pg_kafka_shadow: $(SHADOW_SRCS:shadow/%.c=build/san/shadow/%.o) build/san/libpgkcommon.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $^ $(SHADOW_LIBS)

# The forwarder's objects but main.o, for unit tests (tests/test_config.c
# loads the forwarder's settings table).
build/san/libpgkshadow.a: $(filter-out build/san/shadow/main.o,$(SHADOW_SRCS:shadow/%.c=build/san/shadow/%.o))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

build/rel/shadow/%.o: shadow/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O2 -g $(SHADOW_CFLAGS) -c -o $@ $<

build/san/shadow/%.o: shadow/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O1 -g -fno-omit-frame-pointer $(SAN_FLAGS) $(SHADOW_CFLAGS) -c -o $@ $<

build/rel/mock_cluster: shadow/mock_cluster.c | build/rel/obj
	$(call msg,LINK,$@)
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $< -lrdkafka

build/san/mock_cluster: shadow/mock_cluster.c | build/san/obj
	$(call msg,LINK,$@)
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $< -lrdkafka

# ---- unit tests (cmocka, under ASan+UBSan) ------------------------------------

unit-tests: $(UNIT_BINS)

build/san/tests/test_%: tests/test_%.c build/san/libpgk.a build/san/libpgkshadow.a \
		build/san/libpgkcommon.a | build/san/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(SAN_CFLAGS) $(CMOCKA_CFLAGS) -o $@ $< build/san/libpgk.a \
		build/san/libpgkshadow.a build/san/libpgkcommon.a $(CMOCKA_LIBS) $(LIBS)

# ---- fuzz targets (clang, libFuzzer) -------------------------------------------

fuzz-build: $(FUZZ_BINS)

build/fuzz/obj/%.o: broker/%.c | build/fuzz/obj
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz_%.c build/fuzz/libpgk.a build/fuzz/libpgkcommon.a | build/fuzz/obj
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< build/fuzz/libpgk.a \
		build/fuzz/libpgkcommon.a $(LIBS)

# Each target runs FUZZ_SECONDS on its corpus build/fuzz/corpus/NAME, seeded
# from tests/corpus/NAME/ and with tests/fuzz_NAME.dict if they exist. Crash
# inputs land in build/fuzz/artifacts/.
fuzz: fuzz-build
	@pass=0; fail=0; \
	for name in $(FUZZ_NAMES); do \
		corpus=build/fuzz/corpus/$$name; log=build/fuzz/$$name.log; \
		mkdir -p $$corpus build/fuzz/artifacts; \
		if [ -d tests/corpus/$$name ]; then cp -Rn tests/corpus/$$name/. $$corpus/; fi; \
		dict=; if [ -f tests/fuzz_$$name.dict ]; then dict=-dict=tests/fuzz_$$name.dict; fi; \
		if build/fuzz/fuzz_$$name -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/$$name- $$dict \
			$$corpus >$$log 2>&1; then \
			pass=$$((pass + 1)); \
			echo "fuzz $$name: ok, $$(sed -n 's/^stat::number_of_executed_units: *//p' $$log) runs in $(FUZZ_SECONDS) s, corpus $$(ls $$corpus | wc -l)"; \
		else \
			fail=$$((fail + 1)); \
			tail -n 60 $$log; \
			echo "fuzz $$name: FAILED (log $$log, inputs in build/fuzz/artifacts/)"; \
		fi; \
	done; \
	echo "fuzz: $$pass passed, $$fail failed"; \
	[ $$fail -eq 0 ]

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=15

# ---- PostgreSQL side (PGXS) ----------------------------------------------------

decoder:
	$(MAKE) --no-print-directory -C decoder PG_CONFIG=$(PG_CONFIG)

extension:
	$(MAKE) --no-print-directory -C sql PG_CONFIG=$(PG_CONFIG)

install: decoder extension
	$(MAKE) --no-print-directory -C sql PG_CONFIG=$(PG_CONFIG) install
	$(MAKE) --no-print-directory -C decoder PG_CONFIG=$(PG_CONFIG) install

# ---- running it ----------------------------------------------------------------

# PostgreSQL in .pgdata (kept between runs) and the broker in the foreground;
# Ctrl-C stops the broker, then PostgreSQL.
run:
	@deploy/setup.sh
	@$(MAKE) --no-print-directory rel install >/dev/null
	@PGK_RUN_TLS_LISTEN='$(TLS_LISTEN)' deploy/run.sh $(CURDIR)/.pgdata $(PGPORT) \
		$(CURDIR)/build/rel/pg_kafka \
		--listen $(LISTEN) $(if $(ADVERTISED),--advertised $(ADVERTISED)) \
		$(if $(METRICS_LISTEN),--metrics-listen $(METRICS_LISTEN)) $(RUN_ARGS)

psql:
	@deploy/pgcluster.sh psql $(CURDIR)/.pgdata $(PGPORT)

# ---- make test -----------------------------------------------------------------

# Setup runs first, in its own make, so that this make reads pkg-config and
# pg_config after any missing package has been installed.
test:
	@deploy/setup.sh
	@$(MAKE) --no-print-directory test-steps

# The steps live in tests/run-steps.sh: every step runs even when an earlier
# one failed, each check counts once in the summary, and the exit status is
# non-zero if any failed.
test-steps:
	@MAKE="$(MAKE)" PG_BINDIR="$(PG_BINDIR)" PG_CONFIG="$(PG_CONFIG)" PYTHON="$(PYTHON)" \
		REGRESS_PORT="$(REGRESS_PORT)" NPROC="$(NPROC)" \
		UNIT_BINS="$(UNIT_BINS)" FUZZ_NAMES="$(FUZZ_NAMES)" tests/run-steps.sh

# ---- make chaos (not part of make test) ----------------------------------------

# Fault injection (e2e/test_chaos.py) against the sanitizer build, then the
# table of records sent, acknowledged and found per fault. `make test` runs
# only its smoke test. Needs the extension installed (make install).
CHAOS_REPORT := build/chaos-report.jsonl
.PHONY: chaos
chaos: build/san/pg_kafka
	@rm -f $(CHAOS_REPORT)
	@PGK_CHAOS=1 PGK_CHAOS_REPORT=$(CURDIR)/$(CHAOS_REPORT) PGK_BROKER=$(CURDIR)/build/san/pg_kafka \
		PGK_PGBIN=$(PG_BINDIR) $(PYTHON) -m pytest e2e/test_chaos.py -v; rc=$$?; \
		echo; $(PYTHON) e2e/chaos_table.py $(CHAOS_REPORT) || rc=1; exit $$rc

# ---- make bench (not part of make test) ----------------------------------------

# A fresh cluster and broker, then bench/pgk_bench (docs/BENCHMARKS.md).
# BENCH_SCALE=0.1 for a quick run.
BENCH_SRCS := $(sort $(wildcard bench/*.c))
.PHONY: bench
bench: rel install build/bench/pgk_bench
	@bash bench/run.sh

build/bench/pgk_bench: $(BENCH_SRCS) $(wildcard bench/*.h)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -std=gnu11 $(WARN) -D_GNU_SOURCE $(PQ_CFLAGS) -o $@ $(BENCH_SRCS) \
		-lrdkafka -lpq -lpthread -lm

clean:
	rm -rf build
	$(MAKE) --no-print-directory -C sql PG_CONFIG=$(PG_CONFIG) clean
	$(MAKE) --no-print-directory -C decoder PG_CONFIG=$(PG_CONFIG) clean

-include $(wildcard build/*/obj/*.d build/*/common/*.d build/*/shadow/*.d build/san/tests/*.d build/fuzz/*.d)
