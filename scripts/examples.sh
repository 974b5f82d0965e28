#!/usr/bin/env bash
# examples.sh builds and runs every example program and checks that its
# output says what its pattern promises. (Each example's main_test.go
# checks the same promise in detail.)
set -euo pipefail
cd "$(dirname "$0")/.."

# example → an extended regular expression its output must match.
declare -A promise=(
	[canary]='^canary share: ([89]|1[0-2])\.[0-9]% \(weight 10%\)$'
	[priority-failover]='^served by: acct/gpt-4o-mini '
	[rate-limit-failover]='^served 5/5 calls while the primary was rate limited'
	[onprem-fallback]='served by the cloud fallback while on-prem was down: ([1-9][0-9]*)/\1; by on-prem while it was up: ([1-9][0-9]*)/\2'
	[latency-race]='the fastest deployment, [^ ]+ \([0-9]+ms\), served (30/30 \(the other 0|29/30 \(the other 1|28/30 \(the other 2|27/30 \(the other 3): rechecks of slower ones\)$'
	[prompt-versions]='own prompt version on plain requests \(2/2\) and none with tools \(2/2\)'
	[sticky-sessions]='^([1-9][0-9]*)/\1 conversations stayed on one deployment'
	[region-routing]='US 3/3 on azure-us/gpt-4o, EU 3/3 on azure-eu/gpt-4o'
	[header-overrides]="own target's headers \(and the caller's x-request-id\): 3/3; that got the caller's x-debug: 0"
	[enterprise-tier]='^enterprise on azure-dedicated/gpt-4o: 20/20'
	[sla-cutoff]='^served as the SLA says: ([1-9][0-9]*)/\1'
	[opentelemetry]='^one call span \(chat support/chat\) over 3 attempt spans: 2 in ERROR \(error\.type 500\), then acct/gpt-4o-mini served; the call span is not in error$'
	[onprem-bedrock-fallback]='served by Bedrock while on-prem was down: ([1-9][0-9]*)/\1; by on-prem while it was up: ([1-9][0-9]*)/\2'
	[gemini-fallback]='^served ([0-9]+)/\1 calls: gemini-main [1-9][0-9]*, openai-main [1-9][0-9]*; Gemini'"'"'s 46s quota delay was never waited out; its thought signature came back on the tool turn$'
	[cross-provider]='^served ([1-9][0-9]*)/\1 calls by the Claude fallback while the OpenAI primary was rate limited; ([1-9][0-9]*)/\2 by OpenAI while Claude was overloaded$'
	[environments]='prod \(booking-app/gpt-prod\) 3/3 on big models.*dev \(booking-gpt-dev\) 3/3 on the cheap model'
)

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
status=0
for dir in examples/*/; do
	name=$(basename "$dir")
	want=${promise[$name]:-}
	if [ -z "$want" ]; then
		echo "examples: $name has no promise to check in scripts/examples.sh" >&2
		status=1
		continue
	fi
	# An example with its own go.mod (one that needs a nested module) builds
	# in its own directory like the others.
	(cd "$dir" && go build -o "$bin/$name" .)
	if ! out=$("$bin/$name" 2>&1); then
		echo "examples: $name failed:" >&2
		echo "$out" >&2
		status=1
	elif ! grep -Eq -- "$want" <<<"$out"; then
		echo "examples: $name did not keep its promise /$want/; its output:" >&2
		echo "$out" >&2
		status=1
	else
		echo "examples: $name: $(tail -n 1 <<<"$out")"
	fi
done
exit $status
