#!/bin/bash
# make bench-judge: the judge's throughput and peak memory on a long log,
# as figures (a benchmark, not a test).  The log is the real console
# fixtures repeated to SIZE_MB (default 200), judged with --summary and as
# a stream of events.
# usage: judge-bench.sh [SIZE_MB]
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

mb=${1:-200}
[[ $mb =~ ^[1-9][0-9]*$ ]] || die "judge-bench.sh: SIZE_MB is a positive number, not '$mb'"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "judge bench: building a ${mb} MB log from tests/fixtures/console"
python3 - "$tmp/big.log" "$mb" "$MMRACE_TOP/tests/fixtures/console" <<'PY'
import glob, os, sys
out, mb, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
blob = b"".join(open(p, "rb").read() for p in sorted(glob.glob(os.path.join(d, "*.log"))))
with open(out, "wb") as f:
    for _ in range(mb * 1024 * 1024 // len(blob) + 1):
        f.write(blob)
PY
size=$(stat -c %s "$tmp/big.log")
for mode in --summary events; do
	args=("$tmp/big.log")
	[ "$mode" = events ] || args=(--summary "$tmp/big.log")
	/usr/bin/time -f '%e %U %M' -o "$tmp/time" python3 "$MMRACE_TOP/scripts/judge.py" "${args[@]}" \
		>"$tmp/out" 2>/dev/null || true
	read -r wall user rss < <(tail -n 1 "$tmp/time")
	printf 'judge %-9s %5d MB: wall %6.1f s, cpu %6.1f s, %5.1f MB/s of cpu, peak RSS %4d MB, %d lines out\n' \
		"$mode" $((size / 1048576)) "$wall" "$user" \
		"$(python3 -c "print($size / 1048576 / max($user, 0.01))")" $((rss / 1024)) "$(wc -l <"$tmp/out")"
done
