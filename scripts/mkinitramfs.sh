#!/bin/bash
# Pack a busybox initramfs: the guest script as /init, mmrace.ko, an
# optional KUnit module and fuzzer, the plan and its parameters, and for
# scripts/lkdtm.sh the kernel's lkdtm.ko (MMRACE.KO then "": not loaded).
# usage: mkinitramfs.sh OUT.cpio.gz MMRACE.KO PLAN PARAMS [KUNIT.KO [FUZZ [LKDTM.KO]]]
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

out=$1 ko=$2 plan=$3 params=$4 kunit=${5:-} fuzz=${6:-} lkdtm=${7:-}
# BUSYBOX: another arch's (run.sh: kernel_busybox), not run here.
bb=${BUSYBOX:-/bin/busybox}
[ -x "$bb" ] || die "busybox-static missing ($bb)"
file -L "$bb" 2>/dev/null | grep -q 'statically linked' ||
	die "$bb is not a static busybox (apt-get install busybox-static)"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,proc,sys,dev,tmp,tests}
cp "$bb" "$root/bin/busybox"
install -m 0755 "$MMRACE_TOP/scripts/guest/init" "$root/init"
[ -z "$ko" ] || cp "$ko" "$root/mmrace.ko"
cp "$MMRACE_TOP"/scripts/guest/tests/*.sh "$root/tests/"
cp "$plan" "$root/plan"
cp "$params" "$root/params"
[ -z "$kunit" ] || cp "$kunit" "$root/kunit.ko"
[ -z "$fuzz" ] || cp "$fuzz" "$root/fuzz"
[ -z "$lkdtm" ] || cp "$lkdtm" "$root/lkdtm.ko"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
