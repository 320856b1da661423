#!/usr/bin/env bash
#
# A self-contained PostgreSQL 15 cluster for development and tests.
#
#   pgcluster.sh init [OPTIONS] DIR PORT   initdb DIR (the data directory) for PORT
#   pgcluster.sh start  DIR PORT           start it, create database pg_kafka and the extension
#   pgcluster.sh stop   [--immediate] DIR  fast (or immediate) shutdown
#   pgcluster.sh status DIR                exit 0 if running, 3 if not, 4 if DIR is no cluster
#   pgcluster.sh psql   DIR PORT [psql args]
#   pgcluster.sh standby [--set NAME=VALUE] PRIMARY_PORT DIR PORT
#                                          a streaming standby of the cluster on
#                                          PRIMARY_PORT in DIR (pg_basebackup -R,
#                                          its own physical slot); start it with start
#   pgcluster.sh promote DIR               promote a standby, wait until it writes
#
# init options, for clusters that only tests use:
#   --set NAME=VALUE  a setting after deploy/postgresql.conf's (repeatable);
#                     it overrides the same setting there
#   --no-sync         initdb --no-sync: do not wait for the files to be on disk
#
# Every cluster gets the settings of deploy/postgresql.conf, then the port,
# then the --set overrides, each block marked in DIR/postgresql.conf. The
# server listens on 127.0.0.1:PORT only (no Unix socket, so long paths do not
# matter) with trust authentication for the user postgres, and writes its log
# to DIR/log. It runs as the postgres OS user because initdb and postgres
# refuse to run as root. PG_BINDIR overrides /usr/lib/postgresql/15/bin.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
PG_USER=postgres
DATABASE=pg_kafka

say() { printf 'pgcluster: %s\n' "$*"; }
die() {
	printf 'pgcluster: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '3,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

# Run a command as the postgres OS user (or directly if we already are not root).
as_pg() {
	if [[ $EUID -eq 0 ]]; then
		runuser -u "$PG_USER" -- "$@"
	else
		"$@"
	fi
}

absdir() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$PWD" "$1" ;;
	esac
}

check_port() {
	[[ $1 =~ ^[0-9]+$ ]] && ((1 <= $1 && $1 <= 65535)) || die "invalid port: $1"
}

# The postgres user must be able to reach DIR. A repository under /root is not
# traversable by other users: open every ancestor that blocks it with o+x
# (search only, nothing becomes listable or readable).
ensure_traversable() {
	local dir=$1 d path=() opened=()
	[[ $EUID -eq 0 ]] || return 0
	runuser -u "$PG_USER" -- test -x "$dir" 2>/dev/null && return 0
	d=$dir
	while [[ $d != / ]]; do
		path=("$d" "${path[@]}")
		d=$(dirname "$d")
	done
	for d in "${path[@]}"; do
		if ! runuser -u "$PG_USER" -- test -x "$d" 2>/dev/null; then
			chmod o+x "$d"
			opened+=("$d")
		fi
	done
	((${#opened[@]} == 0)) || say "made ${opened[*]} traversable (o+x) for the $PG_USER user"
	runuser -u "$PG_USER" -- test -x "$dir" || die "the $PG_USER user still cannot reach $dir"
}

is_running() {
	as_pg "$PG_BINDIR/pg_ctl" -D "$1" status >/dev/null 2>&1
}

psql_cmd() {
	local port=$1
	shift
	"$PG_BINDIR/psql" -X -h 127.0.0.1 -p "$port" -U "$PG_USER" "$@"
}

cmd_init() {
	local dir port sync=() overrides=()
	while [[ $# -gt 0 && $1 == --* ]]; do
		case $1 in
		--set)
			[[ $# -ge 2 && $2 =~ ^[A-Za-z_][A-Za-z0-9_.]*=.*$ ]] ||
				die "--set wants NAME=VALUE, not: ${2:-nothing}"
			overrides+=("${2%%=*} = ${2#*=}")
			shift 2
			;;
		--no-sync)
			sync=(--no-sync)
			shift
			;;
		*) usage ;;
		esac
	done
	[[ $# -eq 2 ]] || usage
	dir=$(absdir "$1")
	port=$2
	check_port "$port"
	if [[ -f $dir/PG_VERSION ]]; then
		say "$dir is already a cluster, nothing to do"
		return 0
	fi
	if [[ -d $dir ]] && [[ -n $(ls -A "$dir") ]]; then
		die "$dir exists and is not empty"
	fi
	mkdir -p "$dir"
	ensure_traversable "$(dirname "$dir")"
	if [[ $EUID -eq 0 ]]; then
		chown "$PG_USER:$PG_USER" "$dir"
	fi
	chmod 700 "$dir"
	say "initdb $dir"
	as_pg "$PG_BINDIR/initdb" -D "$dir" -U "$PG_USER" -A trust -E UTF8 --locale=C.UTF-8 \
		"${sync[@]}" >"$dir.initdb.log" 2>&1 || {
		cat "$dir.initdb.log" >&2
		die "initdb failed"
	}
	rm -f "$dir.initdb.log"
	# Settings this server does not know would stop it from starting.
	local known drop=''
	known=$(as_pg "$PG_BINDIR/postgres" --describe-config | cut -f1)
	grep -qx output_plugin_libraries <<<"$known" || drop='/^output_plugin_libraries/d'
	{
		printf '\n# ---- pg_kafka (deploy/postgresql.conf) ----\n'
		sed -e "$drop" "$HERE/postgresql.conf"
		printf '\nport = %s\n' "$port"
		if ((${#overrides[@]} > 0)); then
			printf '\n# ---- overrides (pgcluster.sh init --set) ----\n'
			printf '%s\n' "${overrides[@]}"
		fi
	} >>"$dir/postgresql.conf"
	say "initialized $dir for port $port${overrides:+ (${#overrides[@]} overrides)}"
}

cmd_start() {
	local dir port sharedir
	dir=$(absdir "$1")
	port=$2
	check_port "$port"
	[[ -f $dir/PG_VERSION ]] || die "$dir is not a cluster (run: $0 init $1 $port)"
	ensure_traversable "$dir"
	if is_running "$dir"; then
		say "already running ($dir)"
	else
		say "starting on 127.0.0.1:$port, log in $dir/log"
		as_pg "$PG_BINDIR/pg_ctl" -D "$dir" -l "$dir/log" -o "-p $port" -w -t 60 start \
			>/dev/null || {
			tail -n 30 "$dir/log" >&2 || true
			die "could not start the cluster in $dir"
		}
	fi
	# A standby has what its primary has, and writes nothing.
	if [[ $(psql_cmd "$port" -d postgres -tAc "SELECT pg_is_in_recovery()") == t ]]; then
		say "standby in recovery: database and extension come from the primary"
		return 0
	fi
	if [[ -z $(psql_cmd "$port" -d postgres -tAc \
		"SELECT 1 FROM pg_database WHERE datname = '$DATABASE'") ]]; then
		psql_cmd "$port" -d postgres -q -c "CREATE DATABASE $DATABASE" >/dev/null
		say "created database $DATABASE"
	fi
	sharedir=$("$PG_BINDIR/pg_config" --sharedir)
	if [[ -f $sharedir/extension/pg_kafka.control ]]; then
		psql_cmd "$port" -d "$DATABASE" -q -v ON_ERROR_STOP=1 \
			-c "SET client_min_messages = warning" \
			-c "CREATE EXTENSION IF NOT EXISTS pg_kafka"
	else
		say "extension pg_kafka is not installed (make install); database left without it"
	fi
}

cmd_stop() {
	local dir mode=fast
	if [[ $1 == --immediate ]]; then
		mode=immediate
		shift
	fi
	[[ $# -eq 1 ]] || usage
	dir=$(absdir "$1")
	if [[ ! -f $dir/PG_VERSION ]]; then
		say "$dir is not a cluster, nothing to stop"
		return 0
	fi
	if ! is_running "$dir"; then
		say "not running ($dir)"
		return 0
	fi
	as_pg "$PG_BINDIR/pg_ctl" -D "$dir" -m "$mode" -w -t 60 stop >/dev/null
	say "stopped ($dir)"
}

cmd_status() {
	local dir rc=0
	dir=$(absdir "$1")
	[[ -f $dir/PG_VERSION ]] || {
		say "$dir is not a cluster"
		return 4
	}
	as_pg "$PG_BINDIR/pg_ctl" -D "$dir" status || rc=$?
	return "$rc"
}

# The standby's settings are the primary's (pg_basebackup copies
# postgresql.conf), then its port and the --set overrides: a promoted
# standby must not wait for a synchronous standby of its own unless told to.
cmd_standby() {
	local dir pport port slot overrides=()
	while [[ $# -gt 0 && $1 == --* ]]; do
		case $1 in
		--set)
			[[ $# -ge 2 && $2 =~ ^[A-Za-z_][A-Za-z0-9_.]*=.*$ ]] ||
				die "--set wants NAME=VALUE, not: ${2:-nothing}"
			overrides+=("${2%%=*} = ${2#*=}")
			shift 2
			;;
		*) usage ;;
		esac
	done
	[[ $# -eq 3 ]] || usage
	pport=$1
	dir=$(absdir "$2")
	port=$3
	check_port "$pport"
	check_port "$port"
	if [[ -f $dir/PG_VERSION ]]; then
		say "$dir is already a cluster, nothing to do"
		return 0
	fi
	if [[ -d $dir ]] && [[ -n $(ls -A "$dir") ]]; then
		die "$dir exists and is not empty"
	fi
	mkdir -p "$dir"
	ensure_traversable "$(dirname "$dir")"
	if [[ $EUID -eq 0 ]]; then
		chown "$PG_USER:$PG_USER" "$dir"
	fi
	chmod 700 "$dir"
	slot="standby_$port"
	say "pg_basebackup from 127.0.0.1:$pport into $dir (slot $slot)"
	as_pg "$PG_BINDIR/pg_basebackup" -h 127.0.0.1 -p "$pport" -U "$PG_USER" -D "$dir" \
		-R -X stream -C -S "$slot" --checkpoint=fast --no-sync >"$dir.basebackup.log" 2>&1 || {
		cat "$dir.basebackup.log" >&2
		die "pg_basebackup failed"
	}
	rm -f "$dir.basebackup.log" "$dir/log"
	{
		printf '\n# ---- standby (pgcluster.sh standby) ----\n'
		printf 'port = %s\n' "$port"
		printf "synchronous_standby_names = ''\n"
		printf '%s\n' "${overrides[@]}"
	} >>"$dir/postgresql.conf"
	say "standby of 127.0.0.1:$pport in $dir for port $port"
}

cmd_promote() {
	local dir
	dir=$(absdir "$1")
	[[ -f $dir/PG_VERSION ]] || die "$dir is not a cluster"
	as_pg "$PG_BINDIR/pg_ctl" -D "$dir" -w -t 60 promote >/dev/null
	say "promoted ($dir)"
}

cmd_psql() {
	local port=$2
	check_port "$port"
	shift 2
	exec "$PG_BINDIR/psql" -h 127.0.0.1 -p "$port" -U "$PG_USER" -d "$DATABASE" "$@"
}

[[ $# -ge 2 ]] || usage
cmd=$1
shift
case $cmd in
init) cmd_init "$@" ;;
start)
	[[ $# -eq 2 ]] || usage
	cmd_start "$@"
	;;
stop) cmd_stop "$@" ;;
status)
	[[ $# -eq 1 ]] || usage
	cmd_status "$@"
	;;
psql)
	[[ $# -ge 2 ]] || usage
	cmd_psql "$@"
	;;
standby) cmd_standby "$@" ;;
promote)
	[[ $# -eq 1 ]] || usage
	cmd_promote "$@"
	;;
*) usage ;;
esac
