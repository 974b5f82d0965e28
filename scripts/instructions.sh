#!/usr/bin/env bash
# instructions.sh counts the instructions of one chat call in each variant
# of BenchmarkChatOverhead (routing/core_bench_test.go): direct go-openai,
# the OpenAI adapter alone, and routed over 1 and 8 targets. Instruction
# counts do not depend on the machine's load, unlike times, so they
# resolve differences of a few hundred instructions in a ~200k-instruction
# loopback call.
#
#	bash scripts/instructions.sh [REPS]   # default 3 repetitions
#
# Needs valgrind (Debian: apt-get install valgrind). Each variant runs under
# callgrind at 200 and at 2,000 calls; (Ir at 2,000 − Ir at 200) / 1,800 is
# the cost of one call without the process's start-up. The Go runtime is
# kept off what valgrind 3.19 cannot run (RDTSCP, async preemption
# signals), on one P and without GC, which also keeps the count steady.
# Repetitions still differ by up to ±1k instructions a call: the runtime's
# background work (sysmon, timers, the scheduler) runs by the clock, not
# by the call, and Go refills a type assertion's cache on only one miss
# in 1,024, which moves net/http's assertions by hundreds of instructions
# between runs. So the median of REPS is printed twice: of the whole
# count, and "steady", without the runtime functions that do that work.
set -euo pipefail
cd "$(dirname "$0")/.."

reps=${1:-3}
if ! command -v valgrind >/dev/null; then
	echo "instructions.sh: valgrind not found (apt-get install valgrind)" >&2
	exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go test -c -o "$work/routing.test" ./routing
cd routing

# count VARIANT N REP prints Ir for N calls of VARIANT.
count() {
	local out="$work/$(echo "$1" | tr '/=' '__')-$2-$3"
	GOMAXPROCS=1 GOGC=off GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off \
		valgrind --tool=callgrind --callgrind-out-file="$out.cg" \
		"$work/routing.test" -test.run '^$' -test.bench "^BenchmarkChatOverhead/$1\$" \
		-test.benchtime "${2}x" >"$out.log" 2>&1 || {
		cat "$out.log" >&2
		return 1
	}
	# The whole count, then the count without the runtime's scheduler,
	# clock-driven and type-assertion-cache functions.
	callgrind_annotate --auto=no --threshold=100 "$out.cg" | NOISE="$noise" awk '
		/^ *[0-9,]+ \([^)]*\) +[^ ]/ && !/PROGRAM TOTALS/ {
			n = $1; gsub(",", "", n)
			line = $0; sub(/^ *[0-9,]+ \([^)]*\) +/, "", line)
			split(line, f, " "); fn = f[1]; sub(/^.*:/, "", fn)
			all += n
			if (fn !~ ENVIRON["NOISE"]) steady += n
		}
		END { printf "%d %d\n", all, steady }'
}

noise='^runtime\.(sysmon|retake|lock2|unlock2|nanotime1|stealWork|findRunnable|netpoll|checkdead|incidlelocked|procyield|\(\*timers\)|\(\*pageAlloc\)|step|pcvalue|gentraceback|\(\*unwinder\)|funcInfo|findfunc|recordForPanic|printlock|gwrite|usleep|futex|osyield|readvarint|\(\*moduledata\)|selectgo|pcdatavalue|funcspdelta|runqgrab|schedule|park_m|notesleep|notewakeup|mPark|stopm|startm|wakep|handoffp|entersyscall|exitsyscall|reentersyscall|timeSleepUntil|\(\*mheap\)|\(\*mcentral\)|\(\*mspan\)|typeAssert|getitab|\(\*itabTableType\)|interfaceSwitch|buildTypeAssertCache|buildInterfaceSwitchCache)|^runtime\..*\.abi0$'

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

variants=(direct adapter 'routed/targets=1' 'routed/targets=8')
declare -A all steady
for v in "${variants[@]}"; do
	alls=() steadies=()
	for rep in $(seq "$reps"); do
		read -r lo_all lo_steady < <(count "$v" 200 "$rep")
		read -r hi_all hi_steady < <(count "$v" 2000 "$rep")
		alls+=($(((hi_all - lo_all) / 1800)))
		steadies+=($(((hi_steady - lo_steady) / 1800)))
	done
	all[$v]=$(printf '%s\n' "${alls[@]}" | median)
	steady[$v]=$(printf '%s\n' "${steadies[@]}" | median)
	echo "$v: all ${alls[*]}; steady ${steadies[*]}" >&2
done

printf '| variant | instructions a call | over direct | steady | over direct |\n|---|---|---|---|---|\n'
for v in "${variants[@]}"; do
	printf '| %s | %s | %+d | %s | %+d |\n' "$v" "${all[$v]}" $((all[$v] - all[direct])) \
		"${steady[$v]}" $((steady[$v] - steady[direct]))
done
