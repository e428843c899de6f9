#!/usr/bin/env bash
# Start dynalite, a local DynamoDB-compatible server, in the background for
# the DynamoDB journal and lease tests.
#
# Usage: tools/dynalite/start.sh PORT [LOGFILE]
#
# It listens on 127.0.0.1:PORT only and keeps its tables in memory. The
# script waits (at most DYNALITE_START_TIMEOUT seconds, default 30) until the
# server answers, then prints its PID on stdout and exits 0; stop it with
# `kill PID`. Its output goes to LOGFILE (default: a temporary file, whose
# name is printed on stderr on failure). Install it first with
#   npm ci --prefix tools/dynalite
# Then run the tests with
#   SAFECUTOVER_DYNAMODB_ENDPOINT=http://127.0.0.1:PORT go test ./providers/awsprovider/ -run DynamoDB
set -euo pipefail

usage() { echo "usage: $0 PORT [LOGFILE]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
port=$1
case $port in '' | *[!0-9]*) echo "start.sh: PORT must be a number from 1 to 65535, got '$port'" >&2; exit 2 ;; esac
if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
	echo "start.sh: PORT must be a number from 1 to 65535, got '$port'" >&2
	exit 2
fi
timeout_s=${DYNALITE_START_TIMEOUT:-30}
case $timeout_s in '' | *[!0-9]*) echo "start.sh: DYNALITE_START_TIMEOUT must be whole seconds, got '$timeout_s'" >&2; exit 2 ;; esac

dir=$(cd "$(dirname "$0")" && pwd)
cli=$dir/node_modules/dynalite/cli.js
if [ ! -f "$cli" ]; then
	echo "start.sh: dynalite is not installed; run: npm ci --prefix tools/dynalite" >&2
	exit 1
fi
command -v node >/dev/null || { echo "start.sh: node (Node.js >= 20) is not on PATH" >&2; exit 1; }

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

# Refuse a port someone else already answers on: the tests would talk to it.
if answers; then
	echo "start.sh: something already listens on 127.0.0.1:$port; pick another PORT" >&2
	exit 1
fi

log=${2:-$(mktemp "${TMPDIR:-/tmp}/dynalite.XXXXXX.log")}
# No --path: tables live in memory. stdin/stdout/stderr are detached so a
# caller reading our output (make, $(...)) does not wait for the server.
nohup node --require "$dir/guard.js" "$cli" --host 127.0.0.1 --port "$port" \
	--createTableMs 50 --deleteTableMs 50 --updateTableMs 50 \
	</dev/null >"$log" 2>&1 &
pid=$!

deadline=$((SECONDS + timeout_s))
while :; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "start.sh: dynalite exited before it listened; its log ($log):" >&2
		cat "$log" >&2
		exit 1
	fi
	# Ready when our process says it listens and the port answers.
	if grep -q "listening at" "$log" 2>/dev/null && answers; then
		echo "$pid"
		exit 0
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		kill "$pid" 2>/dev/null || true
		echo "start.sh: dynalite did not answer on 127.0.0.1:$port within ${timeout_s}s; log: $log" >&2
		exit 1
	fi
	sleep 0.1
done
