#!/bin/bash
# make soak: every clean variant, all its contexts, for --minutes each on
# the debug kernel, with a progress line every minute.  Any detector that
# fires is a FAIL with the console excerpt (results.json, summary.txt).
# Each variant boots alone: lockdep and the other one-shot detectors
# switch themselves off after a report, and a report 25 minutes into a
# shared boot would leave the variants after it unwatched.  The soak is
# wall-clock bound, so -j N guests at a time divide its length by N (the
# 13 variants at -j 7: 62 min here), at the price of fewer ops each.
# usage: soak.sh [--minutes M] [-j N] [--only REGEX] [--results DIR]
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

minutes=30 jobs=2 only="" out=""
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) minutes=$2 ;;
	-j) jobs=$2 ;;
	--only) only=$2 ;;
	--results) out=$2 ;;
	*) die "soak.sh: unknown argument '$1'" ;;
	esac
	shift 2
done
[[ $minutes =~ ^[1-9][0-9]*$ ]] || die "--minutes wants a positive number"
out=${out:-$MMRACE_TOP/results/soak-$(date +%Y%m%d-%H%M%S)}

log "soak: every clean variant for $minutes min, all contexts"
bash "$MMRACE_TOP/scripts/run.sh" -j "$jobs" --select clean --split --only "$only" \
	--duration-ms $((minutes * 60000)) --param "SOAK=1" --results "$out" >"$out.log" 2>&1 &
pid=$!
t0=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
	sleep 5
	[ $((($(date +%s) - t0) % 60)) -lt 5 ] || continue
	for c in "$out"/boots/*/console.log; do
		[ -f "$c" ] || continue
		cur=$(python3 "$MMRACE_TOP/scripts/protocol.py" current "$c")
		n=$(python3 "$MMRACE_TOP/scripts/judge.py" "$c" | grep -cv '"scenario": null' || true)
		log "soak: $(basename "$(dirname "$c")"): ${cur:-booting}, $(tail -n 1 "$c" | tr -d '\r' | cut -c1-60), $n detector events"
	done
done
rc=0
wait "$pid" || rc=$?
tail -n 20 "$out.log"
exit "$rc"
