#!/bin/busybox sh
# shellcheck shell=dash
# Guest test: bad debugfs input gets -EINVAL (or -EBUSY while running),
# never a splat, and a valid write afterwards still works.
# Prints "mmrace-test: ok|not ok <name>" lines for the host.
D=/sys/kernel/debug/mmrace
S=$D/selftest
pass=0
fail=0

res() {
	if [ "$1" = 0 ]; then
		echo "mmrace-test: ok $2"
		pass=$((pass + 1))
	else
		echo "mmrace-test: not ok $2"
		fail=$((fail + 1))
	fi
}

# write FILE DATA in one write(2) -> the error text, empty on success;
# DATA is a printf format on purpose, for \000 and \n.
# shellcheck disable=SC2059
w() {
	printf "$2" | dd of="$1" bs=4096 conv=notrunc 2>&1 | grep -i error
}

want() { # name file data errtext
	out=$(w "$2" "$3")
	case $out in *"$4"*) res 0 "$1" ;; *) echo "  got '$out'"; res 1 "$1" ;; esac
}

want variant_unknown "$S/variant" 'nosuch' 'Invalid argument'
want variant_too_long "$S/variant" "$(head -c 300 /dev/zero | tr '\0' x)" 'Invalid argument'
want variant_nul "$S/variant" 'clean\000x' 'Invalid argument'
want knob_not_number "$S/duration_ms" 'abc' 'Invalid argument'
want knob_negative "$S/duration_ms" '-1' 'Invalid argument'
want knob_overflow "$S/duration_ms" '99999999999999999999999' 'Invalid argument'
want knob_out_of_range "$S/duration_ms" '3600001' 'Invalid argument'
want knob_binary "$S/period_us" '\001\002\003' 'Invalid argument'
want contexts_unknown "$S/contexts" 'task,bogus' 'Invalid argument'
want run_bad_value "$S/run" '2' 'Invalid argument'
want run_not_strict "$S/run" 'yes please' 'Invalid argument'
want inject_unknown_symbol "$D/inject" 'mmrace_no_such_symbol 10' 'Invalid argument'
want inject_bad_delay "$D/inject" 'mmrace_call 999999' 'Invalid argument'

[ -z "$(w "$S/duration_ms" ' 1500 \n')" ] && [ "$(cat "$S/duration_ms")" = 1500 ]
res $? knob_whitespace_accepted
[ -z "$(w "$S/contexts" 'task,hardirq')" ] && [ "$(cat "$S/contexts")" = 9 ]
res $? contexts_by_name
[ -z "$(w "$S/variant" 'clean')" ] && grep -q '^\[clean\]$' "$S/variant"
res $? variant_valid_after_bad
# Choosing a variant sets the knobs to its row's defaults, over any
# written before: xchg_plain's row says stall_pct=100, the scenario 10.
F=$D/defer_free
echo 7 >"$F/stall_pct"
echo xchg_plain >"$F/variant"
v1=$(cat "$F/stall_pct")
echo 7 >"$F/stall_pct"
echo llist >"$F/variant"
[ "$v1" = 100 ] && [ "$(cat "$F/stall_pct")" = 10 ]
res $? variant_sets_its_knob_defaults
[ -z "$(w "$D/inject" 'mmrace_call 5 50')" ] && grep -q '^mmrace_call+0 5 50' "$D/inject"
res $? inject_add

# Long enough that the checks below run while it runs, however slow the
# guest (on a loaded host these few writes took more than 1.5 s); then
# stopped by hand, which must end the run with a result.
echo 60000 >"$S/duration_ms"
echo 1 >"$S/run"
want run_twice_busy "$S/run" '1' 'busy'
want knob_while_running_busy "$S/duration_ms" '100' 'busy'
want variant_while_running_busy "$S/variant" 'lockdep' 'busy'
grep -q '^state: running' "$S/stats"
res $? stats_readable_while_running
sleep 1
[ -z "$(w "$S/run" '0')" ] && [ "$(cat "$S/run")" = 0 ]
res $? run_stop_by_hand
grep -q '^ok' "$S/result"
res $? result_ok_after_run
grep -qE '^mmrace_call\+0 5 50 hits=[1-9]' "$D/inject"
res $? inject_hits
[ -z "$(w "$D/inject" '-mmrace_call')" ] && [ -z "$(cat "$D/inject")" ]
res $? inject_remove
want inject_remove_twice "$D/inject" '-mmrace_call' 'Invalid argument'
echo 0 >"$S/contexts"
echo 0 >"$S/duration_ms"
echo "mmrace-test: summary debugfs $pass passed $fail failed"
