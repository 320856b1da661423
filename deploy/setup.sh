#!/usr/bin/env bash
#
# Install what building and testing pg_kafka needs on Debian 12, and nothing
# that is already there. Safe to run any number of times: when everything is
# present it only looks (well under a second).
#
# Steps: Debian packages (one apt-get update, one install, only if something
# is missing), the policy that keeps Debian from creating its own "main"
# cluster, and the npm packages of the end-to-end scripts in e2e/js (KafkaJS,
# @platformatic/kafka).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

PACKAGES=(
	gcc make pkg-config clang libclang-rt-14-dev
	postgresql-15 postgresql-server-dev-15 libpq-dev
	libevent-dev librdkafka-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
	libssl-dev libevent-openssl-2.1-7 openssl
	libcmocka-dev kcat
	python3 python3-pytest python3-confluent-kafka python3-kafka
	python3-snappy python3-lz4 python3-zstandard
	nodejs npm util-linux iproute2
)

# Packages that count as present when their command is on PATH: a Node.js
# from another source bundles npm and conflicts with Debian's npm package.
declare -A SATISFIED_BY_COMMAND=([nodejs]=node [npm]=npm)

say() { printf 'setup: %s\n' "$*"; }

# Our clusters are initdb'd by deploy/pgcluster.sh; Debian's default cluster
# would only take port 5432 and memory. postgresql-common reads this drop-in
# when the server package is installed, so it must exist before that.
CREATECLUSTER_DROPIN=/etc/postgresql-common/createcluster.d/pg_kafka.conf
disable_main_cluster() {
	local want="create_main_cluster = false"
	if [[ -f $CREATECLUSTER_DROPIN ]] && grep -qx "$want" "$CREATECLUSTER_DROPIN"; then
		say "debian default cluster: creation already disabled"
		return
	fi
	if [[ $EUID -ne 0 ]]; then
		say "debian default cluster: not root, cannot write $CREATECLUSTER_DROPIN"
		return
	fi
	mkdir -p "$(dirname "$CREATECLUSTER_DROPIN")"
	printf '# written by pg_kafka deploy/setup.sh: clusters come from deploy/pgcluster.sh\n%s\n' \
		"$want" >"$CREATECLUSTER_DROPIN"
	say "debian default cluster: creation disabled in $CREATECLUSTER_DROPIN"
}

install_packages() {
	local missing=() pkg status
	declare -A installed=()
	# One dpkg-query for all packages; unknown ones are simply not listed.
	while read -r pkg status; do
		[[ $status == ii ]] && installed[$pkg]=1
	done < <(dpkg-query -W -f='${binary:Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)
	local arch
	arch=$(dpkg --print-architecture)
	for pkg in "${PACKAGES[@]}"; do
		# Multi-arch packages are listed as name:arch.
		[[ -n ${installed[$pkg]:-} || -n ${installed[$pkg:$arch]:-} ]] && continue
		[[ -n ${SATISFIED_BY_COMMAND[$pkg]:-} ]] && command -v "${SATISFIED_BY_COMMAND[$pkg]}" >/dev/null &&
			continue
		missing+=("$pkg")
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		say "packages: all ${#PACKAGES[@]} present"
		return
	fi
	if [[ $EUID -ne 0 ]]; then
		say "packages: missing ${missing[*]}; run this script as root"
		exit 1
	fi
	say "packages: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
	say "packages: installed ${#missing[@]}"
}

install_npm_modules() {
	local dir=$ROOT/e2e/js
	if [[ ! -f $dir/package.json ]]; then
		say "e2e/js: no package.json, skipped"
		return
	fi
	if [[ -d $dir/node_modules && ! $dir/package.json -nt $dir/node_modules &&
		! ( -f $dir/package-lock.json && $dir/package-lock.json -nt $dir/node_modules ) ]]; then
		say "e2e/js: node_modules up to date"
		return
	fi
	if [[ -f $dir/package-lock.json ]]; then
		say "e2e/js: npm ci"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
	else
		say "e2e/js: npm install"
		(cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
	fi
	touch "$dir/node_modules"
}

disable_main_cluster
install_packages
install_npm_modules
