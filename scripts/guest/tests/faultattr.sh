#!/bin/busybox sh
# shellcheck shell=dash
# Guest test: hvo's restore allocations obey the kernel's own fault
# attribute (Documentation/fault-injection/), made at load, and fail_pct 0
# really means no injected failure.
D=/sys/kernel/debug/mmrace
H=$D/hvo
A=$H/fail_restore
# The kernel has the attr's debugfs side iff it has this function.
if ! grep -q ' fault_create_debugfs_attr$' /proc/kallsyms; then
	echo "mmrace-test: skip fault_attr (CONFIG_FAULT_INJECTION_DEBUG_FS not set in this kernel: no fault_create_debugfs_attr in /proc/kallsyms)"
	exit 0
fi

stat() { sed -n "s/^$1: //p" "$H/stats"; }
# Run hvo/$1 for 2 s, the knobs "name=value" after it (choosing the
# variant resets every knob to its defaults), and wait for its result.
run() {
	echo "$1" >"$H/variant"
	shift
	echo 2000 >"$H/duration_ms"
	for kv in "$@"; do
		echo "${kv#*=}" >"$H/${kv%%=*}"
	done
	echo 1 >"$H/run"
	while [ "$(cat "$H/run")" = 1 ]; do sleep 1; done
}

if [ -f "$A/probability" ]; then
	echo "mmrace-test: ok fault_attr_at_load"
else
	echo "mmrace-test: not ok fault_attr_at_load (no $A/probability before any run)"
	exit 0
fi

# The tests before this one (the fuzzer) leave knobs anywhere: defaults.
# "name min max default: what it does"
while read -r name _ _ def _; do
	echo "${def%:}" >"$H/$name"
done <"$H/knobs"

# The attr alone: every restore allocation fails, the knob says none.
echo 100 >"$A/probability"
echo -1 >"$A/times"
run fixed fail_pct=0
n=$(stat alloc_fail_injected)
if [ "${n:-0}" -gt 0 ]; then
	echo "mmrace-test: ok fault_attr_injects ($n restore allocations failed by the attr)"
else
	echo "mmrace-test: not ok fault_attr_injects (alloc_fail_injected: '$n')"
fi

# Both off: nothing fails on purpose, and refuse runs clean.
echo 0 >"$A/probability"
run refuse fail_pct=0
n=$(stat alloc_fail_injected)
r=$(cat "$H/result")
if [ "$n" = 0 ] && [ "$r" = ok ]; then
	echo "mmrace-test: ok fail_pct_zero_is_none (refuse: result ok, 0 injected)"
else
	echo "mmrace-test: not ok fail_pct_zero_is_none (result '$r', alloc_fail_injected '$n')"
fi
echo 101 >"$H/fail_pct"
