#!/bin/bash
# Replay a boot that run.sh --record recorded (docs/replay.md).
# usage: replay.sh BOOT [--out DIR] [--gdb PORT] [--verify-only]
#   BOOT is results/<run>/boots/<boot>.  Checks the manifest first: the
#   kernel image and the initramfs must be the recorded ones and the
#   recording whole and unaltered, else it refuses (exit 2) before QEMU
#   runs, because a replay of other inputs stalls or runs into nonsense.
#   Then replays on one CPU into DIR (default BOOT/replay), requires a
#   byte-identical console and the same verdicts and first report
#   (scripts/rr.py same).  --gdb PORT: paused at reset with QEMU's gdb
#   stub on PORT; prints the gdb command line and waits for the guest.
# run.sh writes the manifest: replay.sh --manifest BOOT --kernel IMG
#   --icount N --silence S --append "..."
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

sha() { sha256sum "$1" | cut -d' ' -f1; }
refuse() {
	printf 'mmrace: replay refused: %s\n' "$*" >&2
	exit 2
}

if [ "${1:-}" = --manifest ]; then
	boot=$2 img="" icount=7 silence=60 append=""
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel) img=$2 ;;
		--icount) icount=$2 ;;
		--silence) silence=$2 ;;
		--append) append=$2 ;;
		*) die "replay.sh --manifest: unknown argument $1" ;;
		esac
		shift 2
	done
	img=$(readlink -f "$img")
	rr=$boot/replay.bin.zst
	# The raw recording's hash too: zstd -t only checks its own frames.
	raw=$(zstd -dc "$rr" | sha256sum | cut -d' ' -f1)
	{
		echo "format=mmrace-replay-1"
		echo "kernel=$img"
		echo "kernel_sha256=$(sha "$img")"
		echo "vmlinux=$(readlink -f "$(dirname "$img")/../../../vmlinux")"
		echo "initrd=initrd.gz"
		echo "initrd_sha256=$(sha "$boot/initrd.gz")"
		echo "recording=replay.bin.zst"
		echo "recording_sha256=$(sha "$rr")"
		echo "recording_bytes=$(stat -c %s "$rr")"
		echo "raw_sha256=$raw"
		echo "raw_bytes=$(zstd -dc "$rr" | wc -c)"
		echo "console_sha256=$(sha "$boot/console.log")"
		echo "smp=1"
		echo "icount=$icount"
		echo "silence=$silence"
		echo "append=$append"
		echo "record_wall_s=$(sed -n 's/.*wall_s=\([0-9]*\).*/\1/p' "$boot/console.log.status")"
		echo "qemu=$(cat "$boot/console.log.cmd")"
	} >"$boot/replay.manifest"
	exit 0
fi

boot=${1:?usage: replay.sh BOOT [--out DIR] [--gdb PORT] [--verify-only]}
shift
out="" gdb="" verify_only=""
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift ;;
	--gdb) gdb=$2; shift ;;
	--verify-only) verify_only=1 ;;
	*) die "replay.sh: unknown argument $1" ;;
	esac
	shift
done
boot=$(readlink -f "$boot")
out=${out:-$boot/replay}
if [ ! -f "$boot/replay.manifest" ]; then
	[ ! -f "$boot/not-replayable" ] || refuse "$boot: $(cat "$boot/not-replayable")"
	refuse "$boot: no replay.manifest (not recorded: run.sh --record)"
fi
get() { # one key of the manifest (sed, not rr.py: it is read ~15 times)
	grep -q "^$1=" "$boot/replay.manifest" || refuse "replay.manifest has no $1"
	sed -n "s/^$1=//p" "$boot/replay.manifest" | head -n 1
}
[ "$(get format)" = mmrace-replay-1 ] || refuse "unknown manifest format '$(get format)'"

img=$(get kernel)
[ -f "$img" ] || refuse "kernel image $img is gone"
[ "$(sha "$img")" = "$(get kernel_sha256)" ] ||
	refuse "kernel image mismatch: $img is not the recorded one (sha256 $(sha "$img"), recorded $(get kernel_sha256))"
initrd=$boot/$(get initrd)
[ -f "$initrd" ] || refuse "initramfs $initrd is gone"
[ "$(sha "$initrd")" = "$(get initrd_sha256)" ] ||
	refuse "initramfs mismatch: $initrd is not the recorded one"
rec=$boot/$(get recording)
[ -f "$rec" ] || refuse "recording $rec is gone"
size=$(stat -c %s "$rec")
[ "$size" = "$(get recording_bytes)" ] ||
	refuse "recording truncated or extended: $rec is $size bytes, recorded $(get recording_bytes)"
[ "$(sha "$rec")" = "$(get recording_sha256)" ] || refuse "recording altered: $rec's sha256 is not the recorded one"
zstd -q -t "$rec" || refuse "recording $rec is not a whole zstd stream"
[ -z "$verify_only" ] || { echo "replay.sh: $boot: manifest, kernel, initramfs and recording check out"; exit 0; }

rm -rf "$out"
mkdir -p "$out"
zstd -q -dc "$rec" >"$out/replay.bin"
[ "$(sha "$out/replay.bin")" = "$(get raw_sha256)" ] || refuse "recording decompresses to other bytes than recorded"

silence=$(get silence) max=3600
if [ -n "$gdb" ]; then
	# Paused in gdb, the guest is silent for as long as the user wants.
	silence=86400 max=86400
	echo "replay.sh: the replay waits, paused, for gdb on port $gdb; in another shell:"
	python3 "$MMRACE_TOP/scripts/rr.py" gdb "$boot" "$gdb" --dir "$out"
	echo "  (then: continue; bt; the report comes from the first stop of the breakpoint)"
fi
log "replay: $boot"
bash "$MMRACE_TOP/scripts/boot.sh" --kernel "$img" --initrd "$initrd" --log "$out/console.log" \
	--smp "$(get smp)" --replay "$out/replay.bin" --icount "$(get icount)" \
	--silence "$silence" --max "$max" --append "$(get append)" ${gdb:+--gdb "$gdb"}
rm -f "$out/replay.bin"
log "replay: $(cat "$out/console.log.status") (recorded in $(get record_wall_s) s)"
[ -z "$gdb" ] || exit 0
if ! cmp "$boot/console.log" "$out/console.log"; then
	echo "replay.sh: the replayed console differs from the recorded one:" >&2
	diff "$boot/console.log" "$out/console.log" | head -n 20 >&2
	exit 1
fi
echo "replay.sh: console byte-identical ($(wc -l <"$out/console.log") lines, sha256 $(sha "$out/console.log" | cut -c1-16))"
python3 "$MMRACE_TOP/scripts/judge.py" --summary "$out/console.log" || true
python3 "$MMRACE_TOP/scripts/rr.py" same "$boot/console.log" "$out/console.log"
