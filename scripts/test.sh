#!/usr/bin/env bash
# test.sh runs every check CI runs, for the root module and every nested
# module: gofmt, go vet, and the tests with the race detector in shuffled
# order. The stores/redis tests need a Redis: set LLMROUTE_REDIS_ADDR (see
# stores/redis/testdata/start-redis.sh); without it they skip, except in CI,
# where they fail.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt: these files need formatting:" >&2
	echo "$unformatted" >&2
	exit 1
fi

status=0
for mod in $(find . -name go.mod -not -path '*/testdata/*' | sort); do
	dir=$(dirname "$mod")
	echo "== $dir"
	(cd "$dir" && go vet ./... && go test -race -shuffle=on ./...) || status=1
done
# The race detector changes allocation counts, so the check that pins
# the OpenAI adapter's allocations skips itself there: run it without.
echo "== allocations"
go test -count=1 -run '^TestChatAllocations$' ./providers/openai/ || status=1
exit $status
