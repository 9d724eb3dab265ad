#!/bin/bash
# Build mmrace.ko (and the KUnit module, where the kernel has KUnit)
# against KDIR, in a per-kernel object directory of the cache so that
# builds for several kernels never share objects.  Prints the directory.
# usage: build-module.sh KDIR [MAKE ARGS]  (ARCH=arm64 CROSS_COMPILE=...)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: build-module.sh KDIR [MAKE ARGS]}
shift
[ -f "$kdir/Makefile" ] || die "no kernel build tree at $kdir"
# MMRACE_OBJ: a private object directory, for builds running side by side.
obj=${MMRACE_OBJ:-$MMRACE_CACHE/obj/$(echo "$kdir" | sha256sum | cut -c1-12)}
mkdir -p "$obj"
# Only the sources: kbuild writes its objects beside them.
rsync -a --delete --exclude '*.o' --exclude '*.ko' --exclude '.*.cmd' \
	--exclude '*.mod*' --include 'Kbuild' --include 'VERSION' \
	--include 'module/***' --include 'tests/' --include 'tests/kunit/***' \
	--exclude '*' "$MMRACE_TOP/" "$obj/src/"
log "module: building against $kdir"
t0=$(date +%s)
make -C "$kdir" M="$obj/src" "$@" W=1 modules >"$obj/build.log" 2>&1 || {
	cat "$obj/build.log" >&2
	die "module build failed against $kdir"
}
if grep -E 'warning:|error:' "$obj/build.log" >&2; then
	die "module build has warnings against $kdir (W=1)"
fi
echo "module_build_s=$(($(date +%s) - t0))" >"$obj/src/build-time"
echo "$obj/src"
