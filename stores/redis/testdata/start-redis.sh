#!/bin/sh
# start-redis.sh starts a throwaway redis-server for the stores/redis tests:
# loopback only, no persistence, on a free port. It installs redis-server
# with apt-get when it is missing.
#
#   redis_env=$(stores/redis/testdata/start-redis.sh) || exit 1
#   eval "$redis_env"                            # sets LLMROUTE_REDIS_ADDR
#   trap stores/redis/testdata/stop-redis.sh EXIT
#   (cd stores/redis && go test -race -shuffle=on ./...)
#
# (Not `eval "$(start-redis.sh)"`: eval of a failed substitution succeeds.)
#
# stdout is only the line `export LLMROUTE_REDIS_ADDR=127.0.0.1:PORT`, for
# eval; progress goes to stderr. The address is also written to
# $LLMROUTE_REDIS_DIR/addr, and the server's pid to $LLMROUTE_REDIS_DIR/pid
# (default dir: ${TMPDIR:-/tmp}/llmroute-redis). If a server started by this
# script still runs there, it is reused.
set -eu

dir=${LLMROUTE_REDIS_DIR:-${TMPDIR:-/tmp}/llmroute-redis}
log() { echo "start-redis: $*" >&2; }

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
	log "installing redis-server"
	sudo=
	if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
	$sudo apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >&2
fi

# ours PORT PID: does the server answering on PORT have process id PID?
ours() {
	redis-cli -h 127.0.0.1 -p "$1" info server 2>/dev/null | tr -d '\r' | grep -qx "process_id:$2"
}

mkdir -p "$dir"
if [ -f "$dir/pid" ] && [ -f "$dir/addr" ]; then
	pid=$(cat "$dir/pid")
	addr=$(cat "$dir/addr")
	if kill -0 "$pid" 2>/dev/null && ours "${addr##*:}" "$pid"; then
		log "reusing redis-server $pid on $addr"
		echo "export LLMROUTE_REDIS_ADDR=$addr"
		exit 0
	fi
	rm -f "$dir/pid" "$dir/addr"
fi

try=0
while [ $try -lt 20 ]; do
	try=$((try + 1))
	# A random port in 20000..59999; redis-server exits if it is taken.
	port=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 + 20000 ))
	redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
		--dir "$dir" --daemonize no </dev/null >"$dir/redis.log" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 100 ]; do # up to 10 s
		if ! kill -0 "$pid" 2>/dev/null; then
			break # exited: most likely the port was taken
		fi
		if ours "$port" "$pid"; then
			echo "$pid" >"$dir/pid"
			echo "127.0.0.1:$port" >"$dir/addr"
			log "redis-server $pid on 127.0.0.1:$port (log $dir/redis.log)"
			echo "export LLMROUTE_REDIS_ADDR=127.0.0.1:$port"
			exit 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	log "port $port failed; trying another"
done
log "could not start redis-server; last log:"
cat "$dir/redis.log" >&2 || true
exit 1
