#!/bin/bash
# Build a kernel of scripts/kernels/ (a "source" one) into the cache, once
# per (source version, arch, config fragments) triple.  Prints the build
# directory on stdout.
# usage: build-kernel.sh [--kernel NAME] [--arch ARCH]   (default: debug)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

name=debug arch=""
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) name=$2 ;;
	--arch) arch=$2 ;;
	*) die "build-kernel.sh: unknown argument $1" ;;
	esac
	shift 2
done
kernel_load "$name" "$arch"
[ "$K_KIND" = source ] || die "kernel $K_NAME is $K_KIND: nothing to build"
# KERNEL_JOBS, not JOBS: "make run JOBS=N" (guests at a time) reaches here too.
JOBS=${KERNEL_JOBS:-$(($(nproc) + 1))}
TARBALL=/usr/src/$K_SOURCE.tar.xz
# Before the key: it holds the source package's version, which a package
# not yet installed does not have (a fresh machine's build went to a
# "6.12_unknown_..." directory that the next run could never find).
# shellcheck disable=SC2086 # a list of package names
ensure_packages "$K_SOURCE" $K_PACKAGES "${MMRACE_BUILD_PACKAGES[@]}"
KDIR=$(kernel_kdir)
SRC=$MMRACE_CACHE/src/$(basename "$KDIR" | cut -d_ -f1-2)
# shellcheck disable=SC2046 # ARCH= CROSS_COMPILE=, two words or none
set -- $(kernel_make_args)
make_args=("$@")

if [ -f "$KDIR/.mmrace-done" ]; then
	log "kernel $K_NAME: cached at $KDIR"
	echo "$KDIR"
	exit 0
fi

[ -f "$TARBALL" ] || die "$TARBALL missing (apt-get install $K_SOURCE)"
# The directory's name keeps only the upstream version; the stamp holds
# the whole package version, so a Debian point release re-extracts.
pkg=$(dpkg-query -W -f='${Version}' "$K_SOURCE" 2>/dev/null || echo unknown)
if [ "$(cat "$SRC/.mmrace-extracted" 2>/dev/null)" != "$pkg" ]; then
	log "kernel: extracting $TARBALL ($pkg)"
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tar -xf "$TARBALL" -C "$SRC" --strip-components=1
	echo "$pkg" >"$SRC/.mmrace-extracted"
fi

mkdir -p "$KDIR"
frag=$KDIR/mmrace.config
for f in $K_FRAGMENTS; do cat "$MMRACE_TOP/scripts/kernels/$f"; done >"$frag"
log "kernel $K_NAME: $K_ARCH, allnoconfig + $(grep -c '^CONFIG_' "$frag") options ($K_FRAGMENTS) -> $KDIR"
make -s -C "$SRC" O="$KDIR" "${make_args[@]}" KCONFIG_ALLCONFIG="$frag" allnoconfig >/dev/null

# Kconfig drops what it cannot satisfy without a word: say it loudly.
lost=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$frag" | while IFS= read -r want; do
	grep -qxF "$want" "$KDIR/.config" || echo "  $want (got: $(grep -E "^(# )?${want%%=*}[= ]" "$KDIR/.config" || echo absent))"
done)
[ -z "$lost" ] || die "options dropped by Kconfig (unmet dependencies):
$lost"

run_stage() {
	local what=$1
	shift
	local t0 logf=$KDIR/build-$what.log
	t0=$(date +%s)
	log "kernel: make $what (-j$JOBS, log $logf)"
	make -C "$SRC" O="$KDIR" "${make_args[@]}" -j"$JOBS" "$@" >"$logf" 2>&1 &
	local pid=$! last=$t0 now
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		now=$(date +%s)
		if [ $((now - last)) -ge 30 ] && kill -0 "$pid" 2>/dev/null; then
			last=$now
			log "kernel: $what ... $((now - t0))s, $(grep -c '^  CC' "$logf") objects compiled"
		fi
	done
	wait "$pid" || { tail -n 30 "$logf" >&2; die "kernel: make $what failed"; }
	log "kernel: $what done in $(($(date +%s) - t0))s"
}
t_build=$(date +%s)
run_stage vmlinux "$(basename "$K_IMAGE")"
run_stage modules modules
echo "kernel_build_s=$(($(date +%s) - t_build)) jobs=$JOBS" >"$KDIR/build-time"
touch "$KDIR/.mmrace-done"
echo "$KDIR"
