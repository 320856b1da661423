#!/usr/bin/env bash
#
# `make bench`: a fresh PostgreSQL cluster and broker of their own, then
# bench/pgk_bench against them. Prints the results table and writes
# bench/results/<UTC timestamp>.json. Stops what it started on exit.
#
# Environment:
#   BENCH_SCALE=0.1      scale every record count (1 = the full run)
#   BENCH_ONLY=a,b       run only some of: produce consume latency deep idle mock
#                        secure shadow cluster retention
#   BENCH_PGPORT=25434   PostgreSQL port
#   BENCH_PORT=19392     broker port (PLAINTEXT); the next port is its SASL_SSL
#                        listener (SCRAM-SHA-256 as the role pgk_bench), with a
#                        development CA in build/bench-tls
#   BENCH_POOL=16        broker --pool-size
#   BENCH_BROKER=PATH    broker binary (default build/rel/pg_kafka)
#   BENCH_BROKER_ARGS=.. more broker flags (e.g. --stream-enabled false)
#   BENCH_KEEP=1         leave the cluster data in build/bench-pg afterwards
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
scale=${BENCH_SCALE:-1}
only=${BENCH_ONLY:-}
pgport=${BENCH_PGPORT:-25434}
port=${BENCH_PORT:-19392}
pool=${BENCH_POOL:-16}
broker=${BENCH_BROKER:-$ROOT/build/rel/pg_kafka}
bench=$ROOT/build/bench/pgk_bench
pgdir=$ROOT/build/bench-pg
results=$ROOT/bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
json=$results/$stamp.json
brokerlog=$ROOT/build/bench-broker.log

say() { printf 'bench: %s\n' "$*" >&2; }

[[ -x $broker ]] || {
	say "no broker at $broker (make rel)"
	exit 1
}
[[ -x $bench ]] || {
	say "no $bench (make bench builds it)"
	exit 1
}

# 1,000 idle connections plus 100 producers need more descriptors than the
# usual 1024, in this script, the broker and the benchmark alike.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

broker_pid=
cleanup() {
	if [[ -n $broker_pid ]] && kill -0 "$broker_pid" 2>/dev/null; then
		kill -TERM "$broker_pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$broker_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$broker_pid" 2>/dev/null || true
	fi
	"$ROOT/deploy/pgcluster.sh" stop "$pgdir" >/dev/null 2>&1 || true
	# The server log explains stalls (checkpoints, autovacuum): keep it.
	[[ -f $pgdir/log ]] && cp "$pgdir/log" "$results/$stamp.postgresql.log"
	[[ -n ${BENCH_KEEP:-} ]] || rm -rf "$pgdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A fresh cluster every run: the numbers must not depend on leftovers.
"$ROOT/deploy/pgcluster.sh" stop "$pgdir" >/dev/null 2>&1 || true
rm -rf "$pgdir"
"$ROOT/deploy/pgcluster.sh" init "$pgdir" "$pgport" >&2
"$ROOT/deploy/pgcluster.sh" start "$pgdir" "$pgport" >&2
pg_pid=$(head -n 1 "$pgdir/postmaster.pid")
conninfo="host=127.0.0.1 port=$pgport dbname=pg_kafka user=postgres"
# Autovacuum runs on kafka.records during the produce scenarios and takes a
# core of two: log every run so that a slow scenario can be explained.
"$PG_BINDIR/psql" -X -q -d "$conninfo" \
	-c "ALTER SYSTEM SET log_autovacuum_min_duration = 0" -c "SELECT pg_reload_conf()" >/dev/null

mkdir -p "$(dirname "$brokerlog")" "$results"
# The secure scenario compares the PLAINTEXT listener with a SASL_SSL one of
# the same broker, where a PostgreSQL role logs in with SCRAM-SHA-256.
tlsdir=$ROOT/build/bench-tls
secure_port=$((port + 1))
"$ROOT/deploy/devcerts.sh" "$tlsdir"
"$PG_BINDIR/psql" -X -q -d "$conninfo" \
	-c "CREATE ROLE pgk_bench LOGIN PASSWORD 'pgk-bench-secret' IN ROLE kafka_users" >/dev/null
"$broker" --pg "$conninfo" \
	--listeners "PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$secure_port" \
	--ssl-certificate-location "$tlsdir/server.pem" --ssl-key-location "$tlsdir/server.key" \
	--pool-size "$pool" --log-level warn --log-retention-check-interval-ms 1000 \
	${BENCH_BROKER_ARGS:-} >"$brokerlog" 2>&1 &
broker_pid=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	kill -0 "$broker_pid" 2>/dev/null || {
		tail -n 20 "$brokerlog" >&2
		say "the broker exited"
		exit 1
	}
	sleep 0.1
done
say "broker pid $broker_pid on 127.0.0.1:$port (pool $pool, log $brokerlog)," \
	"PostgreSQL pid $pg_pid on $pgport, scale $scale"

start=$(date +%s)
"$bench" --broker "127.0.0.1:$port" --pg "$conninfo" --broker-pid "$broker_pid" \
	--pg-pid "$pg_pid" --scale "$scale" --json "$json" ${only:+--only "$only"} \
	--secure-broker "127.0.0.1:$secure_port" --secure-name SASL_SSL \
	--secure-conf "security.protocol=sasl_ssl;ssl.ca.location=$tlsdir/ca.pem;sasl.mechanism=SCRAM-SHA-256;sasl.username=pgk_bench;sasl.password=pgk-bench-secret"

# Shadow mode: mirror throughput and commit-to-external-ack lag next to the
# local produce rate, on its own throwaway cluster (shadow/bench_shadow.py),
# once as fast as producers go and once paced so the mirror keeps up.
if [[ -z $only || ,$only, == *,shadow,* ]]; then
	records=$(awk -v s="$scale" 'BEGIN { n = int(200000 * s); print (n < 1000 ? 1000 : n) }')
	for rate in 0 20000; do
		say "shadow mode: $records records, rate ${rate/#0/unpaced}"
		PGK_BROKER="$broker" /usr/bin/python3 "$ROOT/shadow/bench_shadow.py" "$records" 100 "$rate"
	done
fi
# Several brokers on one database (bench/bench_cluster.py): throughput with
# 1, 2 and 3 members, and the recovery after one is killed.
if [[ -z $only || ,$only, == *,cluster,* ]]; then
	records=$(awk -v s="$scale" 'BEGIN { n = int(200000 * s); print (n < 10000 ? 10000 : n) }')
	say "cluster: $records records with 1, 2 and 3 brokers"
	PGK_BROKER="$broker" /usr/bin/python3 "$ROOT/bench/bench_cluster.py" "$records" 100
fi
say "done in $(($(date +%s) - start)) s; results in ${json#"$ROOT"/}"
