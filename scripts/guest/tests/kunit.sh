#!/bin/busybox sh
# shellcheck shell=dash
# Guest test: load the KUnit suite of mmrace's private primitives; the
# kernel prints its KTAP, which the host parses case by case.
if [ ! -f /kunit.ko ]; then
	echo "mmrace-test: skip kunit (no KUnit module: CONFIG_KUNIT not set in this kernel)"
	exit 0
fi
insmod /kunit.ko && rmmod mmrace_kunit
