#!/usr/bin/env bash
#
# devcerts.sh DIR: a development CA and a server certificate for localhost
# (127.0.0.1, ::1) in DIR, made once with the openssl command line: ca.pem
# (what clients trust), server.pem and server.key. Not for production (see
# docs/SECURITY.md). Exit status 0 if they are there afterwards.
set -euo pipefail

dir=${1:?usage: devcerts.sh DIR}
[[ -s $dir/ca.pem && -s $dir/server.pem && -s $dir/server.key ]] && exit 0
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout ca.key -out ca.pem -days 3650 -subj "/CN=pg_kafka development CA" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n' >server.ext
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-out server.pem -days 825 -extfile server.ext 2>/dev/null
rm -f server.csr server.ext
