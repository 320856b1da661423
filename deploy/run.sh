#!/usr/bin/env bash
#
# `make run`: the development cluster and one broker in the foreground.
#
#   run.sh DATADIR PGPORT BROKER [broker flags...]
#
# Initializes DATADIR on first use (later runs reuse its data), starts
# PostgreSQL on 127.0.0.1:PGPORT, then runs BROKER --pg "..." [flags].
#
# Stopping: SIGINT or SIGTERM stops the broker gracefully, then PostgreSQL,
# and the script exits with the broker's status (0 after a clean stop). A
# signal sent to the whole process group (Ctrl-C, `timeout`, CI runners,
# service managers) may reach this script twice within a moment: make relays
# SIGTERM to its children as well. Repeats within ESCALATE_AFTER whole
# seconds (default 2) of the first signal are therefore the same request
# and are ignored; a signal that comes later means "now": the broker gets
# SIGKILL.
#
# TLS: with PGK_RUN_TLS_LISTEN=HOST:PORT (make run sets it from TLS_LISTEN),
# the broker also serves SASL_SSL there (SCRAM-SHA-256 and SCRAM-SHA-512:
# users are PostgreSQL roles in kafka_users, see docs/SECURITY.md). A development CA and a server
# certificate for localhost are made once with the openssl command line in
# DATADIR/tls/ (ca.pem is what clients trust), and the --listen/--advertised
# flags become the PLAINTEXT entry of --listeners/--advertised-listeners.
#
# One run per data directory and port: a second run while one is going
# refuses at once, naming the running one, and touches nothing. DATADIR.run
# is the lock (flock, released when the run ends, however it ends) and says
# who holds it. A cluster that was already running when the run started (by
# hand with deploy/pgcluster.sh, or left over) is used, and left running.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ESCALATE_AFTER=${ESCALATE_AFTER:-2}
[[ $ESCALATE_AFTER =~ ^[0-9]+$ ]] || {
	echo "$0: ESCALATE_AFTER must be whole seconds, not '$ESCALATE_AFTER'" >&2
	exit 2
}
[[ $# -ge 3 ]] || {
	echo "usage: $0 DATADIR PGPORT BROKER [broker flags...]" >&2
	exit 2
}
datadir=$1
pgport=$2
broker=$3
shift 3
case $datadir in
/*) ;;
*) datadir=$PWD/$datadir ;;
esac
datadir=${datadir%/}
lockfile=$datadir.run

say() { printf 'run: %s\n' "$*"; }
refuse() {
	printf 'run: %s\n' "$*" >&2
	exit 1
}

# The broker's listen address, as it will parse it (default 0.0.0.0:9092).
listen=0.0.0.0:9092
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	case ${args[i]} in
	--listen) ((i + 1 < ${#args[@]})) && listen=${args[i + 1]} ;;
	--listen=*) listen=${args[i]#--listen=} ;;
	esac
done
kafka_port=${listen##*:}
tls_listen=${PGK_RUN_TLS_LISTEN:-}
tls_port=${tls_listen##*:}

# "pid 123 (pg_kafka)" for whoever listens on a TCP port, empty if nobody.
port_owner() {
	local line
	line=$(ss -Hltnp "( sport = :$1 )" 2>/dev/null | head -n 1) || true
	[[ -n $line ]] || return 0
	if [[ $line =~ \(\(\"([^\"]*)\",pid=([0-9]+) ]]; then
		printf 'pid %s (%s)' "${BASH_REMATCH[2]}" "${BASH_REMATCH[1]}"
	else
		printf 'another process'
	fi
}

# ---- one run at a time ---------------------------------------------------------

exec 9<>"$lockfile"
if ! flock -n 9; then
	holder=$(<"$lockfile")
	refuse "another run is using $datadir: ${holder:-(starting)}; stop it first (Ctrl-C in its terminal, or kill -TERM its pid)"
fi
: >"$lockfile"
owner=$(port_owner "$kafka_port")
[[ -z $owner ]] || refuse "port $kafka_port (listen $listen) is in use by $owner; stop it, or pick another port: make run LISTEN=127.0.0.1:PORT"
if [[ -n $tls_listen ]]; then
	owner=$(port_owner "$tls_port")
	[[ -z $owner ]] || refuse "port $tls_port (TLS listen $tls_listen) is in use by $owner; stop it, or pick another port: make run TLS_LISTEN=localhost:PORT (empty: no TLS)"
fi

# ---- signals -------------------------------------------------------------------

broker_pid=
first_signal_us=
pending=
now_us() { printf '%s' "${EPOCHREALTIME/./}"; }
on_signal() {
	local sig=$1 now
	now=$(now_us)
	if [[ -z $first_signal_us ]]; then
		first_signal_us=$now
		if [[ -z $broker_pid ]]; then
			pending=$sig
			say "received SIG$sig before the broker started; stopping"
			return
		fi
		say "received SIG$sig: stopping the broker (pid $broker_pid)"
		kill -"$sig" "$broker_pid" 2>/dev/null || true
	elif ((now - first_signal_us < ESCALATE_AFTER * 1000000)); then
		: # the same stop request, relayed (make forwards SIGTERM to its children)
	elif [[ -n $broker_pid ]]; then
		say "received SIG$sig again: killing the broker (pid $broker_pid)"
		kill -KILL "$broker_pid" 2>/dev/null || true
	fi
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM

# ---- PostgreSQL ----------------------------------------------------------------

# pgcluster.sh in a session of its own, like the broker: a signal to this
# process group must not cut initdb, pg_ctl start or stop in half. The
# script handles the signal once the step is done.
pgcluster() { setsid "$HERE/pgcluster.sh" "$@" 9>&-; }

our_cluster=
statedir=
stop_cluster() {
	[[ -n $our_cluster ]] || return 0
	our_cluster=
	pgcluster stop "$datadir"
}
on_exit() {
	local rc=$?
	if [[ -n $broker_pid ]] && kill -0 "$broker_pid" 2>/dev/null; then
		kill -KILL "$broker_pid" 2>/dev/null || true
	fi
	# Stopped before the broker started: a clean stop of what did start is a
	# clean stop.
	if stop_cluster && [[ -n $pending && -z $statedir ]]; then
		rc=0
	fi
	[[ -z $statedir ]] || rm -rf "$statedir"
	: >"$lockfile"
	exit "$rc"
}
trap on_exit EXIT

if [[ -f $datadir/PG_VERSION ]] && "$HERE/pgcluster.sh" status "$datadir" >/dev/null 2>&1 9>&-; then
	pm_pid=$(sed -n 1p "$datadir/postmaster.pid" 2>/dev/null || true)
	pm_port=$(sed -n 4p "$datadir/postmaster.pid" 2>/dev/null || true)
	[[ -z $pm_port || $pm_port == "$pgport" ]] ||
		refuse "PostgreSQL in $datadir is already running on port $pm_port (postmaster pid $pm_pid), not $pgport"
	say "PostgreSQL in $datadir is already running (postmaster pid $pm_pid), not started by this run: using it and leaving it running"
else
	owner=$(port_owner "$pgport")
	[[ -z $owner ]] || refuse "PostgreSQL port $pgport is in use by $owner; pick another: make run PGPORT=PORT"
	[[ -f $datadir/PG_VERSION ]] || pgcluster init "$datadir" "$pgport"
	[[ -z $pending ]] || exit 0
	our_cluster=1
	pgcluster start "$datadir" "$pgport"
fi
[[ -z $pending ]] || exit 0

# ---- TLS -----------------------------------------------------------------------

# The development CA and server certificate, made once by
# deploy/devcerts.sh: clients trust DATADIR/tls/ca.pem. Not for production
# (see docs/SECURITY.md).
make_dev_certs() {
	local dir=$1
	[[ -s $dir/ca.pem && -s $dir/server.pem && -s $dir/server.key ]] && return 0
	say "making a development CA and server certificate in $dir"
	"$HERE/devcerts.sh" "$dir" ||
		refuse "cannot make the development certificates in $dir (is openssl installed?)"
}

if [[ -n $tls_listen ]]; then
	make_dev_certs "$datadir/tls"
	# --listen/--advertised become the PLAINTEXT listener of --listeners.
	advertised=
	rest=()
	for ((i = 0; i < ${#args[@]}; i++)); do
		case ${args[i]} in
		--listen) ((i++)) || true ;;
		--listen=*) ;;
		--advertised)
			((i++)) || true
			advertised=${args[i]:-}
			;;
		--advertised=*) advertised=${args[i]#--advertised=} ;;
		*) rest+=("${args[i]}") ;;
		esac
	done
	set -- --listeners "PLAINTEXT://$listen,SASL_SSL://$tls_listen" \
		${advertised:+--advertised-listeners "PLAINTEXT://$advertised"} \
		--ssl-certificate-location "$datadir/tls/server.pem" \
		--ssl-key-location "$datadir/tls/server.key" "${rest[@]}"
	listen="$listen, SASL_SSL on $tls_listen (SCRAM; trust $datadir/tls/ca.pem)"
fi

# ---- the broker ----------------------------------------------------------------

conninfo="host=127.0.0.1 port=$pgport dbname=pg_kafka user=postgres"
say "$broker --pg \"$conninfo\" $*"
# The broker runs in a session of its own, so that a signal to this process
# group reaches only this script, which then sends the broker exactly one.
# Its parent there is a small shell that records its exit status: this
# script cannot take it from its own `wait`, which a trapped signal
# interrupts, after which bash may report the signal's status instead.
statedir=$(mktemp -d "${TMPDIR:-/tmp}/pg_kafka-run.XXXXXX")
PGK_RUN_STATE=$statedir setsid bash -c \
	'"$@" & echo $! >"$PGK_RUN_STATE/pid"; wait $!; echo $? >"$PGK_RUN_STATE/status"' \
	run.sh "$broker" --pg "$conninfo" "$@" 9>&- &
parent_pid=$!
set +e
until [[ -s $statedir/pid ]] || ! kill -0 "$parent_pid" 2>/dev/null; do
	sleep 0.01
done
broker_pid=$(<"$statedir/pid")
printf 'pid %s, broker pid %s, Kafka on %s, PostgreSQL on 127.0.0.1:%s\n' \
	"$$" "$broker_pid" "$listen" "$pgport" >"$lockfile"
# A signal that came while the broker was being started.
if [[ -n $pending ]]; then
	say "stopping the broker (pid $broker_pid)"
	kill -"$pending" "$broker_pid" 2>/dev/null
fi

# wait returns early when a trapped signal arrives: wait until the parent,
# which outlives the broker, is gone.
while kill -0 "$parent_pid" 2>/dev/null; do
	wait "$parent_pid"
done
rc=$(cat "$statedir/status" 2>/dev/null)
[[ -n $rc ]] || rc=1
say "broker exited with status $rc"
broker_pid=
if ! stop_cluster; then
	say "PostgreSQL did not stop cleanly"
	((rc != 0)) || rc=1
fi
exit "$rc"
