#!/bin/busybox sh
# shellcheck shell=dash
# Guest test: the debugfs fuzzer (tests/fuzz/debugfs_fuzz.c), $FUZZ_WRITES
# random writes to every knob of every scenario, each outcome checked.
if [ ! -x /fuzz ]; then
	echo "mmrace-test: not ok fuzz (no /fuzz in the initramfs)"
	exit 0
fi
/fuzz "${FUZZ_WRITES:-10000}" "${FUZZ_SEED:-$$}"
