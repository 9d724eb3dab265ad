#!/bin/bash
# Build the mmrace debug kernel into the cache, once per (source version,
# config fragment) pair. Prints the build directory on stdout.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# KERNEL_JOBS, not JOBS: "make run JOBS=N" (guests at a time) reaches here too.
JOBS=${KERNEL_JOBS:-$(($(nproc) + 1))}
TARBALL=/usr/src/linux-source-6.12.tar.xz
KDIR=$(debug_kdir)
SRC=$MMRACE_CACHE/src/$(basename "$KDIR" | cut -d_ -f1-2)

if [ -f "$KDIR/.mmrace-done" ]; then
	log "debug kernel: cached at $KDIR"
	echo "$KDIR"
	exit 0
fi

[ -f "$TARBALL" ] || die "$TARBALL missing (apt-get install linux-source-6.12)"
# The directory's name keeps only the upstream version; the stamp holds
# the whole package version, so a Debian point release re-extracts.
pkg=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown)
if [ "$(cat "$SRC/.mmrace-extracted" 2>/dev/null)" != "$pkg" ]; then
	log "kernel: extracting $TARBALL ($pkg)"
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tar -xf "$TARBALL" -C "$SRC" --strip-components=1
	echo "$pkg" >"$SRC/.mmrace-extracted"
fi

mkdir -p "$KDIR"
frag=$KDIR/mmrace.config
cat "$MMRACE_TOP"/scripts/kernel/*.config >"$frag"
log "kernel: allnoconfig + $(grep -c '^CONFIG_' "$frag") options -> $KDIR"
make -s -C "$SRC" O="$KDIR" KCONFIG_ALLCONFIG="$frag" allnoconfig >/dev/null

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
	make -C "$SRC" O="$KDIR" -j"$JOBS" "$@" >"$logf" 2>&1 &
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
run_stage vmlinux bzImage
run_stage modules modules
echo "kernel_build_s=$(($(date +%s) - t_build)) jobs=$JOBS" >"$KDIR/build-time"
touch "$KDIR/.mmrace-done"
echo "$KDIR"
