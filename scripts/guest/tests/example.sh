#!/bin/busybox sh
# shellcheck shell=dash
# The README's worked example, run for real so that its output is real:
# "run.sh --only '^$' --guest-tests" does not include it; run it with a
# plan line "@example".
D=/sys/kernel/debug/mmrace
x() {
	echo "# $*"
	sh -c "$*" 2>&1
}
x "cat $D/scenarios"
x "ls $D/defer_free"
x "cat $D/defer_free/variant"
x "echo llist > $D/defer_free/variant"
x "echo 3000 > $D/defer_free/duration_ms"
x "echo task,softirq,hardirq > $D/defer_free/contexts"
x "echo 1 > $D/defer_free/run"
x "cat $D/defer_free/result"
sleep 5
x "cat $D/defer_free/result"
x "cat $D/defer_free/stats"
x "echo bogus > $D/defer_free/variant"
x "dmesg | tail -n 1"
