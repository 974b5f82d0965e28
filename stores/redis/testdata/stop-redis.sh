#!/bin/sh
# stop-redis.sh stops the redis-server that start-redis.sh started, found
# by its pidfile in $LLMROUTE_REDIS_DIR (default ${TMPDIR:-/tmp}/llmroute-redis),
# and removes the files start-redis.sh left there. Stopping a server that
# is not running is not an error.
set -eu

dir=${LLMROUTE_REDIS_DIR:-${TMPDIR:-/tmp}/llmroute-redis}
log() { echo "stop-redis: $*" >&2; }

if [ ! -f "$dir/pid" ]; then
	log "no pidfile in $dir; nothing to stop"
	exit 0
fi
pid=$(cat "$dir/pid")
if kill "$pid" 2>/dev/null; then
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ $i -ge 50 ]; then # 5 s
			log "redis-server $pid ignored SIGTERM; killing it"
			kill -9 "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
		i=$((i + 1))
	done
	log "stopped redis-server $pid"
else
	log "redis-server $pid was not running"
fi
rm -f "$dir/pid" "$dir/addr" "$dir/redis.log"
rmdir "$dir" 2>/dev/null || true
