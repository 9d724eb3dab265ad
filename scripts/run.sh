#!/bin/bash
# make run: from nothing to a verdict table.
#   install packages -> build the kernel (cached) -> build mmrace.ko ->
#   ask the module which scenario/variants it has (a short list boot) ->
#   one boot per variant that must trip a one-shot detector, clean ones
#   sharing a boot per scenario -> judge every console -> report.
# usage: run.sh [-j N] [--kernel NAME] [--arch ARCH] [--only REGEX]
#               (NAME: scripts/kernels/NAME.kernel, debug (default), stock,
#               kcsan; --arch arm64: NAME-arm64.kernel, cross-built)
#               [--results DIR] [--duration-ms MS] [--repeat N]
#               [--guest-tests]  (also KUnit, the debugfs and unload tests)
#               [--ko MMRACE.KO] (a module built elsewhere, e.g. by DKMS)
#               [--select all|clean|bugs] (variants by expectation)
#               [--split] (every clean variant in a boot of its own)
#               [--param KEY=VALUE] (to the guest: UNLOAD_CYCLES, FUZZ_WRITES)
#               [--backend qemu|lava] (lava: each boot a LAVA job, lava-run)
#               [--submit URL] (with lava: to a real lava-server, lavacli)
#               [--kdir DIR] (a debug kernel build tree, used as it is)
#               [--record] (bug boots on one CPU, recorded: docs/replay.md)
#               [--record-shift N,...] (-icount shifts to try, 7,3: gdb needs a fixed one)
#               [--minimize [--k K]] (each bug variant --only selects: the least
#               recipe that still fires K of K, scripts/minimize.py; -j at a time)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

jobs=1 kernel=debug arch="" only="" results="" duration="" repeat=1 guest_tests="" prebuilt=""
select=all split="" params=() backend=qemu submit="" kdir_given="" record="" rshift=7,3
minimize="" min_k=5
while [ $# -gt 0 ]; do
	case $1 in
	-j) jobs=$2; shift ;;
	--kernel) kernel=$2; shift ;;
	--arch) arch=$2; shift ;;
	--only) only=$2; shift ;;
	--results) results=$2; shift ;;
	--duration-ms) duration=$2; shift ;;
	--repeat) repeat=$2; shift ;;
	--guest-tests) guest_tests=--guest-tests ;;
	--ko) prebuilt=$2; shift ;;
	--select) select=$2; shift ;;
	--split) split=--split ;;
	--param) params+=("$2"); shift ;;
	--backend) backend=$2; shift ;;
	--submit) submit=$2; shift ;;
	--kdir) kdir_given=$2; shift ;;
	--record) record=1 ;;
	--record-shift) rshift=$2; shift ;;
	--minimize) minimize=1 ;;
	--k) min_k=$2; shift ;;
	-h|--help) sed -n '2,23p' "$0"; exit 0 ;;
	*) die "run.sh: unknown argument '$1' (see --help)" ;;
	esac
	shift
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "-j wants a positive number, not '$jobs'"
[[ $min_k =~ ^[1-9][0-9]*$ ]] || die "--k wants a positive number, not '$min_k'"
[ "$backend" != lava ] || submit=${submit:-${LAVA_URL:-}}
case $backend in
qemu) booter=(bash "$MMRACE_TOP/scripts/boot.sh") ;;
lava)
	ensure_packages lava-dispatcher
	booter=(bash "$MMRACE_TOP/scripts/lava-boot.sh")
	[ -z "$submit" ] || { ensure_packages lavacli; booter+=(--submit "$submit"); }
	;;
*) die "--backend wants qemu or lava, not '$backend'" ;;
esac
[ -z "$submit" ] || [ "$backend" = lava ] || die "--submit goes with --backend lava"
[ -z "$record" ] || [ "$backend" = qemu ] || die "--record records QEMU on this host: not with --backend $backend"

ensure_packages "${MMRACE_PACKAGES[@]}"

# The kernel is data (scripts/kernels/NAME.kernel): what it is built
# from or where it is installed, its arch, QEMU line and console.
kernel_load "$kernel" "$arch"
# shellcheck disable=SC2086 # a list of package names
ensure_packages $K_PACKAGES
if [ -n "$K_GUESTS" ] && [ "$jobs" -gt "$K_GUESTS" ]; then
	log "kernel $K_NAME: $K_GUESTS guest(s) at a time, not $jobs (guests= in its scripts/kernels/ file)"
	jobs=$K_GUESTS
fi
[ -z "$record" ] || [ "$K_ARCH" = x86_64 ] || die "--record: only x86_64 guests are recorded here"
[ "$backend" = qemu ] || [ "$K_ARCH" = x86_64 ] || die "--backend $backend: only x86_64 guests (scripts/lava/)"
case $K_KIND in
source)
	if [ -n "$kdir_given" ]; then
		# A tree built before (e.g. another config's cache entry): never
		# a build, which takes an hour on a shared host.
		[ -f "$kdir_given/$K_IMAGE" ] || die "--kdir $kdir_given: no $K_IMAGE"
		kdir=$(readlink -f "$kdir_given")
	else
		kdir=$(bash "$MMRACE_TOP/scripts/build-kernel.sh" --kernel "$K_NAME")
	fi
	img=$kdir/$K_IMAGE
	kconfig=$kdir/.config
	kernel_source=debian:$K_SOURCE=$(dpkg-query -W -f='${Version}' "$K_SOURCE" 2>/dev/null || echo unknown)
	;;
installed)
	kver=$(find /usr/src -maxdepth 1 -name "linux-headers-*-$K_FLAVOUR" -printf '%f\n' |
		sed 's/^linux-headers-//' | sort -V | tail -n 1)
	[ -n "$kver" ] || die "no linux-headers-*-$K_FLAVOUR (apt-get install linux-headers-$K_FLAVOUR)"
	kdir=/usr/src/linux-headers-$kver
	img=/boot/vmlinuz-$kver
	kconfig=/boot/config-$kver
	[ -f "$img" ] || die "$img missing (apt-get install linux-image-$K_FLAVOUR)"
	kernel_source=debian:linux-image-$kver=$(dpkg-query -W -f='${Version}' "linux-image-$kver" 2>/dev/null || echo unknown)
	;;
esac
# shellcheck disable=SC2046 # ARCH= CROSS_COMPILE=, two words or none
set -- $(kernel_make_args)
kmake=("$@")
bb=$(kernel_busybox)
qemu_args=(--qemu "$K_QEMU" --machine "$K_MACHINE" --console "$K_CONSOLE" --karg "$K_APPEND")

if [ -n "$prebuilt" ]; then
	[ -f "$prebuilt" ] || die "--ko $prebuilt: no such file"
	src=$(dirname "$(readlink -f "$prebuilt")")
	ko=$(readlink -f "$prebuilt")
else
	src=$(bash "$MMRACE_TOP/scripts/build-module.sh" "$kdir" "${kmake[@]}")
	ko=$src/mmrace.ko
fi
# KVM only runs the host's own arch.
accel=tcg
[ "$K_ARCH" != "$(uname -m)" ] || accel=$(bash "$MMRACE_TOP/scripts/kvm-probe.sh" "$img")
log "guest: $accel, kernel $img"

res=${results:-$MMRACE_TOP/results/$(date +%Y%m%d-%H%M%S)-$kernel}
mkdir -p "$res/boots"
ln -sfn "$res" "$MMRACE_TOP/results/latest" 2>/dev/null || true
cp "$kconfig" "$res/kernel.config"
cat >"$res/meta.env" <<META
mmrace_version=$(cat "$MMRACE_TOP/VERSION")
mmrace_git=$(git -C "$MMRACE_TOP" describe --always --dirty 2>/dev/null || echo none)
kernel=$K_NAME
kernel_release=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
kernel_image=$img
kernel_source=$kernel_source
arch=$K_ARCH
accel=$accel
backend=$backend
duration_ms=${duration:-default}
$(cat "$kdir/build-time" "$src/build-time" 2>/dev/null)
META

# The guest-side fuzzer: a static binary, rebuilt when its source changes.
fuzz=""
if [ -n "$guest_tests" ]; then
	fuzz=$MMRACE_CACHE/fuzz.$K_ARCH.$(sha256sum "$MMRACE_TOP/tests/fuzz/debugfs_fuzz.c" | cut -c1-12)
	[ -x "$fuzz" ] || "${K_CROSS}gcc" -static -O2 -Wall -Wno-format-truncation -o "$fuzz" \
		"$MMRACE_TOP/tests/fuzz/debugfs_fuzz.c" || die "cannot build the fuzzer"
fi

# --record: a bug boot on one CPU under QEMU's record/replay.  Kept, with
# the initramfs and a manifest, when its bug fired; else the boot dir says
# why it is not replayable and the boot runs as without --record.
record_boot() { # name silence append
	local d=$res/boots/$1 rr shift why="" verdict
	rr=$d/replay.bin
	# -icount shift=7 is 128 ns of guest time per instruction: a slow CPU,
	# whose 1 ms timers starve the task context of some variants (hvo's
	# remaps never ran).  Any fixed shift suits gdb: try the next one.
	for shift in ${rshift//,/ }; do
		bash "$MMRACE_TOP/scripts/boot.sh" --kernel "$img" --initrd "$d/initrd.gz" \
			--log "$d/console.log" --smp 1 --record "$rr" --icount "$shift" --silence "$2" --append "$3"
		if ! grep -q '^status=poweroff' "$d/console.log.status"; then
			why="${why:+$why; }shift=$shift: the one-CPU recorded boot $(cut -d' ' -f1 "$d/console.log.status")"
		elif ! verdict=$(python3 "$MMRACE_TOP/scripts/judge.py" --summary "$d/console.log" 2>&1); then
			why="${why:+$why; }shift=$shift: its bug did not fire on one CPU ($(grep -oE 'PASS|FAIL|ERROR|hang' <<<"$verdict" | head -n 1) verdict, console.smp1.shift$shift.log)"
		else
			zstd -q -T1 -9 --rm "$rr" -o "$rr.zst"
			bash "$MMRACE_TOP/scripts/replay.sh" --manifest "$d" --kernel "$img" --icount "$shift" \
				--silence "$2" --append "$3"
			[ -z "$why" ] || echo "recorded at shift=$shift after: $why" >"$d/record-notes"
			return 0
		fi
		for f in "$d"/console.log*; do mv "$f" "${f/console.log/console.smp1.shift$shift.log}"; done
		rm -f "$rr"
	done
	echo "not replayable: $why" >"$d/not-replayable"
	return 1
}

boot() { # name plan-file params-file silence [extra kernel arguments]
	local d=$res/boots/$1
	mkdir -p "$d"
	cp "$2" "$d/plan"
	cp "$3" "$d/params"
	BUSYBOX=$bb bash "$MMRACE_TOP/scripts/mkinitramfs.sh" "$d/initrd.gz" "$ko" "$d/plan" "$d/params" \
		"$(ls "$src/mmrace_kunit.ko" 2>/dev/null)" "$fuzz"
	if [ -n "$record" ] && [[ $1 == bug-* ]] && record_boot "$1" "$4" "${5:-}"; then
		log "boot $1: recorded, $(cut -d' ' -f1,2 "$d/console.log.status"), $(du -h "$d/replay.bin.zst" | cut -f1)"
		return
	fi
	[ ! -f "$d/not-replayable" ] || log "boot $1: $(cat "$d/not-replayable"); booting it as without --record"
	# A bug boot is judged by its first report: a minute after it the
	# guest has printed what follows from it (boot.sh --grace).
	local try stop=()
	[[ $1 == bug-* ]] && stop=(--grace 60 --splat "$splat" --max 1200)
	for try in 1 2; do
		"${booter[@]}" --kernel "$img" --initrd "$d/initrd.gz" \
			--log "$d/console.log" --accel "$accel" --silence "$4" --append "${5:-}" "${stop[@]}" \
			"${qemu_args[@]}"
		# A kernel that hung before /init ran (seen once in ~40 boots of
		# Debian's 6.1 under TCG, both CPUs idle at the X.509 certificate
		# load) says nothing about mmrace: boot it once more, and keep
		# the first console beside the second.
		grep -q '^status=poweroff' "$d/console.log.status" && break
		python3 "$MMRACE_TOP/scripts/protocol.py" reached "$d/console.log" && break
		[ "$try" = 1 ] || break
		log "boot $1: the kernel hung before /init ran; booting it again"
		for f in "$d"/console.log*; do mv "$f" "${f/console.log/console.try1.log}"; done
	done
	rm -f "$d/initrd.gz"
	log "boot $1: $(cut -d' ' -f1,2 "$d/console.log.status")"
}

# The module's own table says what exists; cache the answer per .ko.
list=$MMRACE_CACHE/list.$(sha256sum "$ko" | cut -c1-16)
if [ ! -s "$list" ]; then
	log "list boot: asking mmrace.ko for its scenarios"
	: >"$res/empty"
	echo LIST=1 >"$res/list.params"
	boot list "$res/empty" "$res/list.params" 30
	python3 "$MMRACE_TOP/scripts/protocol.py" scenarios "$res/boots/list/console.log" >"$list.tmp"
	[ -s "$list.tmp" ] || die "list boot printed no scenarios: $res/boots/list/console.log"
	mv "$list.tmp" "$list"
fi
cp "$list" "$res/scenarios.txt"

# At most $jobs jobs in the background: a new one waits for a free slot.
running=0
throttle() {
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
}

# --minimize: scripts/minimize.py for each selected bug variant, each in
# a directory of its own (its boots are its own), then one table.
if [ -n "$minimize" ]; then
	[ "$K_NAME" = debug ] || die "--minimize: the x86_64 debug kernel only (it records on one CPU)"
	mapfile -t vs < <(python3 "$MMRACE_TOP/scripts/plan.py" "$res/scenarios.txt" --only "$only" \
		--select bugs | cut -f2 | cut -d' ' -f1 | sort -u)
	[ ${#vs[@]} -gt 0 ] || die "--only '$only' selects no bug variant"
	log "minimize: ${#vs[@]} bug variants, K=$min_k, $jobs at a time"
	for v in "${vs[@]}"; do
		(python3 "$MMRACE_TOP/scripts/minimize.py" "$v" --k "$min_k" --kdir "$kdir" --ko "$ko" \
			--out "$res/minimize/${v//\//-}" >"$res/minimize-${v//\//-}.log" 2>&1 || true
		log "minimize $v: $(sed -n 's/^minimal recipe: //p' "$res/minimize/${v//\//-}/minimize.txt" 2>/dev/null ||
			tail -n 1 "$res/minimize-${v//\//-}.log")") &
		throttle
	done
	wait || true
	python3 "$MMRACE_TOP/scripts/minimize.py" --table "$res/minimize" | tee "$res/minimize.md"
	exit 0
fi

python3 "$MMRACE_TOP/scripts/plan.py" "$res/scenarios.txt" --only "$only" \
	--repeat "$repeat" ${duration:+--duration-ms "$duration"} $guest_tests $split --select "$select" \
	>"$res/plan.txt"
nboots=$(cut -f1 "$res/plan.txt" | sort -u | wc -l)
[ "$nboots" -gt 0 ] || die "--only '$only' selects nothing; see $res/scenarios.txt"
log "plan: $(wc -l <"$res/plan.txt") runs in $nboots boots, $jobs at a time"

printf '%s\n' "${params[@]}" >"$res/params"
# The guest notices that a detector spoke by the kinds' own strings.
splat=$(python3 "$MMRACE_TOP/scripts/detectors.py" --guest-splat)
printf "SPLAT='%s'\n" "$splat" >>"$res/params"
# Interrupted, stop the boots in flight (boot.sh then kills its guest).
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
trap 'exit 143' TERM INT
for name in $(cut -f1 "$res/plan.txt" | uniq); do
	awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$res/plan.txt" >"$res/plan.$name"
	append=$(awk -F'\t' -v n="$name" '$1 == n { print $3; exit }' "$res/plan.txt")
	# How long a silent guest may stay so: plan.py (scripts/detectors.py).
	silence=$(awk -F'\t' -v n="$name" '$1 == n { print $4; exit }' "$res/plan.txt")
	# The unload test scans for leaks: kmemleak only where it is wanted.
	[[ $name == guest-tests* ]] && append="$append kmemleak=on"
	boot "$name" "$res/plan.$name" "$res/params" "$silence" "$append" &
	throttle
done
wait || true
rm -f "$res"/plan.* "$res/empty" "$res/list.params" "$res/params"

python3 "$MMRACE_TOP/scripts/report.py" "$res"
