#!/usr/bin/env bash
#
# The steps of `make test`, run from the repository root by the Makefile's
# test-steps target (which `make test` runs after deploy/setup.sh):
#
#   build      rel, san, unit tests, fuzz targets, decoder, extension
#   install    the extension and the output plugin (make install)
#   unit       each build/san/tests/test_* against a throwaway cluster
#   regress    pg_regress of sql/ and decoder/ against the same cluster
#   fuzz       15 seconds per fuzz target
#   e2e        pytest e2e with the sanitizer build of the broker
#
# Every step runs even when an earlier one failed; each check (a unit test
# binary, a pg_regress suite, a fuzz target, the e2e suite) prints one PASS
# or FAIL line, then the summary line "N passed, N failed"; the exit status
# is non-zero if any check failed. The lines also go to build/test-results.
#
# The Makefile passes, in the environment:
#   MAKE          the make to build with
#   PG_BINDIR     PostgreSQL 15 binaries
#   PG_CONFIG     its pg_config
#   PYTHON        the python that runs pytest
#   REGRESS_PORT  port of the throwaway cluster in build/regress-pg
#   NPROC         parallel build jobs
#   UNIT_BINS     the unit test binaries (build/san/tests/test_*)
#   FUZZ_NAMES    the fuzz target names (build/fuzz/fuzz_NAME)
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

for var in MAKE PG_BINDIR PG_CONFIG PYTHON REGRESS_PORT NPROC; do
	if [[ -z ${!var:-} ]]; then
		echo "run-steps: $var is not set (run it through make test)" >&2
		exit 2
	fi
done
UNIT_BINS=${UNIT_BINS:-}
FUZZ_NAMES=${FUZZ_NAMES:-}

results=$ROOT/build/test-results
regress_pg=$ROOT/build/regress-pg
mkdir -p build
: >"$results"

pass() { echo "PASS $1" | tee -a "$results"; }
fail() { echo "FAIL $1${2:+ ($2)}" | tee -a "$results"; }
step() { printf '\n>>> %s\n' "$*"; }
submake() { "$MAKE" --no-print-directory "$@"; }
uptodate() { submake -q "$1" 2>/dev/null; }

step "build: rel, san, unit tests, fuzz targets, decoder, extension"
if submake -k "-j$NPROC" rel san unit-tests fuzz-build decoder extension; then
	pass build
else
	fail build
fi
if submake install >build/install.log 2>&1; then
	pass install
else
	cat build/install.log
	fail install
fi

step "throwaway cluster for unit and pg_regress tests (build/regress-pg, port $REGRESS_PORT)"
trap 'deploy/pgcluster.sh stop "$regress_pg"; exit 130' INT TERM
deploy/pgcluster.sh stop "$regress_pg" >/dev/null
rm -rf "$regress_pg"
cluster=
if deploy/pgcluster.sh init "$regress_pg" "$REGRESS_PORT" &&
	deploy/pgcluster.sh start "$regress_pg" "$REGRESS_PORT"; then
	cluster=up
else
	fail regress "cluster did not start"
fi

step "unit tests (build/san/tests)"
for t in $UNIT_BINS; do
	name=unit:${t##*/}
	if ! uptodate "$t"; then
		fail "$name" "not built"
		continue
	fi
	if PGK_TEST_PG="${cluster:+host=127.0.0.1 port=$REGRESS_PORT user=postgres dbname=postgres}" \
		"$t" >"$t.log" 2>&1; then
		pass "$name"
	else
		tail -n 100 "$t.log"
		fail "$name" "log $t.log"
	fi
done

step "pg_regress"
if [[ -n $cluster ]]; then
	for dir in sql decoder; do
		compgen -G "$dir/sql/*.sql" >/dev/null || continue
		if PGHOST=127.0.0.1 PGPORT=$REGRESS_PORT PGUSER=postgres \
			submake -C "$dir" PG_CONFIG="$PG_CONFIG" installcheck; then
			pass "regress:$dir"
		else
			head -n 200 "$dir/regression.diffs" 2>/dev/null
			fail "regress:$dir" "$dir/regression.diffs"
		fi
	done
fi
deploy/pgcluster.sh stop "$regress_pg"
trap - INT TERM

step "fuzz smoke (15 s per target)"
for name in $FUZZ_NAMES; do
	if ! uptodate "build/fuzz/fuzz_$name"; then
		fail "fuzz:$name" "not built"
		continue
	fi
	if submake fuzz FUZZ_NAMES="$name" FUZZ_SECONDS=15; then
		pass "fuzz:$name"
	else
		fail "fuzz:$name"
	fi
done

step "e2e: pytest e2e with build/san/pg_kafka"
if ! uptodate build/san/pg_kafka; then
	fail e2e "build/san/pg_kafka not built"
else
	PGK_BROKER=$ROOT/build/san/pg_kafka PGK_PG_BINDIR=$PG_BINDIR PGK_PGBIN=$PG_BINDIR \
		"$PYTHON" -m pytest e2e -v
	rc=$?
	if [[ $rc -eq 0 ]]; then
		pass e2e
	elif [[ $rc -eq 5 ]]; then
		echo "SKIP e2e (no tests collected)"
	else
		fail e2e "pytest exit $rc"
	fi
fi

step "summary"
grep '^FAIL' "$results"
npass=$(grep -c '^PASS' "$results")
nfail=$(grep -c '^FAIL' "$results")
echo "$npass passed, $nfail failed"
[[ $nfail -eq 0 ]]
