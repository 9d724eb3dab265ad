#!/bin/bash
# A real DKMS round trip, as a test fleet would do it: dkms add this
# tree, build and install for Debian's stock kernel and for the debug
# kernel, then boot each kernel with the module DKMS produced and run
# selftest/clean in it.  Prints "PASS|FAIL <what>" lines.
# usage: dkms-check.sh DEBUG_KDIR
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

debug_kdir=${1:?usage: dkms-check.sh DEBUG_KDIR}
ver=$(cat "$MMRACE_TOP/VERSION")
stock=$(find /usr/src -maxdepth 1 -name 'linux-headers-*-amd64' -printf '%f\n' |
	sed 's/^linux-headers-//' | sort -V | tail -n 1)
debug_rel=$(cat "$debug_kdir/include/config/kernel.release")
work=$(mktemp -d)
rc=0

row() { # status what
	printf '%s  %s\n' "$1" "$2"
	[ "$1" = PASS ] || rc=1
}

# What installing the debug kernel's modules would leave: a build link.
# Ours only for this test: removed at exit if this script made it.
made_moddir=""
if [ ! -e "/lib/modules/$debug_rel" ]; then
	made_moddir=/lib/modules/$debug_rel
fi
mkdir -p "/lib/modules/$debug_rel"
ln -sfn "$debug_kdir" "/lib/modules/$debug_rel/build"
trap 'dkms remove -m mmrace -v "$ver" --all >/dev/null 2>&1
	rm -rf "/usr/src/mmrace-$ver" "$work" $made_moddir' EXIT

# The README's way: make dkms-add (the sources only, into /usr/src).
dkms remove -m mmrace -v "$ver" --all >/dev/null 2>&1
if make -s -C "$MMRACE_TOP" dkms-add >"$work/log" 2>&1; then
	row PASS "make dkms-add (mmrace/$ver)"
else
	row FAIL "make dkms-add"; cat "$work/log"; exit 1
fi

for k in "$stock" "$debug_rel"; do
	src=()
	[ "$k" = "$debug_rel" ] && src=(--kernelsourcedir "$debug_kdir")
	if dkms build -m mmrace -v "$ver" -k "$k" "${src[@]}" >"$work/log" 2>&1 &&
		dkms install -m mmrace -v "$ver" -k "$k" "${src[@]}" --force >>"$work/log" 2>&1; then
		row PASS "dkms build+install for $k"
	else
		row FAIL "dkms build+install for $k"
		tail -n 30 "$work/log"
		continue
	fi
	ko=$(find "/lib/modules/$k/updates/dkms" -name 'mmrace.ko*' | head -n 1)
	case $ko in *.xz) xz -dkf "$ko"; ko=${ko%.xz} ;; *.zst) zstd -dqf "$ko"; ko=${ko%.zst} ;; esac
	kernel=debug
	[ "$k" = "$stock" ] && kernel=stock
	if bash "$MMRACE_TOP/scripts/run.sh" --kernel "$kernel" --ko "$ko" \
		--only '^selftest/clean$' --results "$work/res-$kernel" >"$work/log" 2>&1; then
		row PASS "the DKMS module loads and runs on $k ($ko)"
	else
		row FAIL "the DKMS module loads and runs on $k"
		tail -n 20 "$work/log"
	fi
done
exit $rc
