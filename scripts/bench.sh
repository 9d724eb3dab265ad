#!/bin/bash
# make bench: how reliably and how fast each bug is caught, and how many
# clean boots make "clean" mean clean.
#   1. every bug variant in --boots independent boots (default 10)
#   2. per scenario, n >= ln(alpha)/ln(1-p) boots of its clean variants,
#      p the lower Wilson bound of its weakest bug variant (--cap bounds n)
#   3. table, bench.json, SVG plots, comparison with the previous bench
# usage: bench.sh [--boots N] [--alpha A] [--cap N] [-j N] [--results DIR]
#                 [--only REGEX]
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

boots=10 alpha=0.01 cap="" jobs=2 out="" only=""
while [ $# -gt 0 ]; do
	case $1 in
	--boots) boots=$2 ;;
	--alpha) alpha=$2 ;;
	--cap) cap=$2 ;;
	-j) jobs=$2 ;;
	--results) out=$2 ;;
	--only) only=$2 ;;
	*) die "bench.sh: unknown argument '$1'" ;;
	esac
	shift 2
done
[[ $boots =~ ^[1-9][0-9]*$ ]] || die "--boots wants a positive number"
# Benches compare with the previous one: they live side by side.
[ -n "$out" ] || out=$MMRACE_TOP/results/bench/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"

log "bench: every bug variant in $boots boots"
bash "$MMRACE_TOP/scripts/run.sh" -j "$jobs" --select bugs --repeat "$boots" --only "$only" \
	--results "$out/detect" >"$out/detect.log" 2>&1 || true
tail -n 3 "$out/detect.log" >&2
python3 "$MMRACE_TOP/scripts/bench.py" sizing "$out/detect" --alpha "$alpha" \
	${cap:+--cap "$cap"} >"$out/sizing.tsv"
while IFS=$'\t' read -r sc n; do
	log "bench: $sc clean variants in $n boots"
	bash "$MMRACE_TOP/scripts/run.sh" -j "$jobs" --select clean --only "^$sc/" \
		--repeat "$n" --results "$out/clean-$sc" >"$out/clean-$sc.log" 2>&1 || true
done <"$out/sizing.tsv"
ln -sfn "$out" "$(dirname "$out")/latest"
python3 "$MMRACE_TOP/scripts/bench.py" report "$out" --alpha "$alpha"
