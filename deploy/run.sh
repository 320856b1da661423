#!/usr/bin/env bash
#
# `make run`: the development cluster and one broker in the foreground.
#
#   run.sh DATADIR PGPORT BROKER [broker flags...]
#
# Initializes DATADIR on first use (later runs reuse its data), starts
# PostgreSQL on 127.0.0.1:PGPORT, then runs BROKER --pg "..." [flags].
# Ctrl-C (or SIGTERM) stops the broker, then PostgreSQL.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# -ge 3 ]] || {
	echo "usage: $0 DATADIR PGPORT BROKER [broker flags...]" >&2
	exit 2
}
datadir=$1
pgport=$2
broker=$3
shift 3

[[ -f $datadir/PG_VERSION ]] || "$HERE/pgcluster.sh" init "$datadir" "$pgport"
"$HERE/pgcluster.sh" start "$datadir" "$pgport"

stop_cluster() { "$HERE/pgcluster.sh" stop "$datadir" || true; }

conninfo="host=127.0.0.1 port=$pgport dbname=pg_kafka user=postgres"
echo "run: $broker --pg \"$conninfo\" $*"

# The broker gets its own session so that the terminal's Ctrl-C reaches only
# this script, which then sends the broker exactly one signal.
setsid "$broker" --pg "$conninfo" "$@" &
broker_pid=$!
stopping=
# A second Ctrl-C does not wait for a graceful shutdown.
forward() {
	if [[ -n $stopping ]]; then
		echo "run: killing the broker"
		kill -KILL "$broker_pid" 2>/dev/null || true
		return
	fi
	stopping=1
	echo "run: stopping the broker (pid $broker_pid)"
	kill -"$1" "$broker_pid" 2>/dev/null || true
}
trap 'forward INT' INT
trap 'forward TERM' TERM
trap stop_cluster EXIT

# wait returns early (128 + the signal) when a trapped signal arrives: keep
# waiting until the broker is gone, then take its own exit status, which the
# shell keeps for a child that has exited.
set +e
wait "$broker_pid"
while kill -0 "$broker_pid" 2>/dev/null; do
	wait "$broker_pid"
done
wait "$broker_pid"
rc=$?
echo "run: broker exited with status $rc"
exit "$rc"
