#!/bin/bash
# One QEMU boot.  The guest powers itself off; this only guards it: it
# waits while the console still advances and calls a guest that has
# been silent for --silence seconds hung.
# usage: boot.sh --kernel IMG --initrd CPIO --log FILE [--accel tcg|kvm]
#        [--smp N] [--mem MB] [--append "..."] [--silence S] [--max S]
# Writes FILE (console), FILE.cmd (the exact command), FILE.status.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

accel=tcg smp=2 mem=1024 append="" silence=60 max=3600
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) img=$2 ;;
	--initrd) initrd=$2 ;;
	--log) logf=$2 ;;
	--accel) accel=$2 ;;
	--smp) smp=$2 ;;
	--mem) mem=$2 ;;
	--append) append=$2 ;;
	--silence) silence=$2 ;;
	--max) max=$2 ;;
	*) die "boot.sh: unknown argument $1" ;;
	esac
	shift 2
done
: "${img:?--kernel}" "${initrd:?--initrd}" "${logf:?--log}"

# On a loaded host a TCG vCPU can be off its host CPU for a while.  The
# boot's IO-APIC timer check then fails ("IO-APIC + timer doesn't work!",
# a panic before the console: seen at 13 guests on 2 cores), and the
# clocksource watchdog can call the TSC unstable and move the kernel to
# the HPET, an emulated device every clock read must go through.  The
# TCG TSC derives from the host's clock: trust it, skip the check.
quiet_host="no_timer_check tsc=reliable"
cmd=(qemu-system-x86_64 -accel "$accel" -smp "$smp" -m "$mem"
	-display none -monitor none -no-reboot
	-serial "file:$logf" -kernel "$img" -initrd "$initrd"
	-append "console=ttyS0 panic=-1 oops=panic ftrace_dump_on_oops=orig_cpu trace_buf_size=256K kunit.enable=1 $quiet_host $append")
[ "$accel" = tcg ] && cmd[2]=tcg,thread=multi
printf '%q ' "${cmd[@]}" >"$logf.cmd"
echo >>"$logf.cmd"
: >"$logf"

t0=$(date +%s)
"${cmd[@]}" </dev/null >"$logf.qemu" 2>&1 &
pid=$!
last_size=-1 last_change=$t0 status=poweroff
while kill -0 "$pid" 2>/dev/null; do
	sleep 1
	now=$(date +%s)
	size=$(stat -c %s "$logf" 2>/dev/null || echo 0)
	if [ "$size" != "$last_size" ]; then
		last_size=$size
		last_change=$now
	elif [ $((now - last_change)) -ge "$silence" ]; then
		status=hung
	fi
	[ $((now - t0)) -ge "$max" ] && status=timeout
	if [ "$status" != poweroff ]; then
		kill "$pid" 2>/dev/null || true
		break
	fi
done
wait "$pid" 2>/dev/null || true
echo "status=$status wall_s=$(($(date +%s) - t0)) accel=$accel smp=$smp mem=$mem" >"$logf.status"
[ "$status" = poweroff ] || echo "mmrace-host: guest $status (no console output for ${silence}s)" >>"$logf"
