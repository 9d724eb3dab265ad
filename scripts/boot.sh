#!/bin/bash
# One QEMU boot.  The guest powers itself off; this only guards it: it
# waits while the console still advances and calls a guest that has
# been silent for --silence seconds hung.
# usage: boot.sh --kernel IMG --initrd CPIO --log FILE [--accel tcg|kvm]
#        [--smp N] [--mem MB] [--append "..."] [--silence S] [--max S]
#        [--record RR | --replay RR] [--icount SHIFT] [--gdb PORT]
#        [--grace S --splat RE]
# Writes FILE (console), FILE.cmd (the exact command), FILE.status.
# --record/--replay: QEMU's record/replay into/from the file RR (one CPU
# only: QEMU 7.2 refuses it with smp; TCG without MTTCG), at a fixed
# -icount shift (7 unless --icount: gdb needs a fixed one, shift=auto
# stalls under gdb).  --gdb PORT: the gdb stub, the guest paused at reset.
# --grace S --splat RE: a bug boot's verdict is its first report, so a
# guest still running S seconds after its console first matched RE after
# BEGIN (the detectors' own strings, knob lines aside, as the guest's
# init reads them) is stopped.  A wrecked guest whose detector keeps
# printing (a lockup every 20 s) never goes silent: without this it ran
# to --max, an hour of a CI run for one PASS.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

boot_opts "$@"
[ -z "$submit" ] || die "boot.sh: --submit is lava-boot.sh's"

# The arch's own arguments come with its kernel (scripts/kernels/*.kernel:
# --karg): on x86_64 "no_timer_check tsc=reliable", because on a loaded
# host a TCG vCPU can be off its host CPU for a while, the boot's IO-APIC
# timer check then fails ("IO-APIC + timer doesn't work!", a panic before
# the console: seen at 13 guests on 2 cores), and the clocksource watchdog
# can call the TSC unstable and move the kernel to the HPET, an emulated
# device every clock read must go through.
# A silent guest gets an NMI through the monitor before it is killed: on
# x86 unknown_nmi_panic turns it into a panic that prints every CPU's
# backtrace (panic_print 0x40) and the trace buffer (0x10), so "hung"
# comes with where it hung.  Not the held locks (0x8): lockdep, walking
# them from NMI, splats about itself.  (QEMU's virt board takes no NMI
# from the monitor: an arm64 guest is killed without the backtraces.)
mon=$(mktemp -u /tmp/mmrace-mon.XXXXXX)
on_hang="panic_print=0x50"
[ "$qemu" != qemu-system-x86_64 ] || on_hang="unknown_nmi_panic $on_hang"
# shellcheck disable=SC2206 # "-M virt -cpu max": words
machine_args=($machine)
cmd=("$qemu" -accel "$accel" "${machine_args[@]}" -smp "$smp" -m "$mem"
	-display none -monitor "unix:$mon,server=on,wait=off" -no-reboot
	-serial "file:$logf" -kernel "$img" -initrd "$initrd"
	-append "console=$console panic=-1 oops=panic ftrace_dump_on_oops=orig_cpu trace_buf_size=256K kunit.enable=1 $karg $on_hang $append")
[ "$accel" = tcg ] && cmd[2]=tcg,thread=multi
if [ -n "$rrmode" ]; then
	# icount is single-threaded TCG: MTTCG and KVM cannot record.
	[ "$smp" = 1 ] || die "boot.sh: --$rrmode needs --smp 1 (QEMU: 'Record/replay feature is not supported for smp')"
	accel=tcg
	cmd[2]=tcg
	cmd+=(-icount "shift=$icount,rr=$rrmode,rrfile=$rr")
fi
[ -z "$gdb" ] || cmd+=(-gdb "tcp::$gdb" -S)
printf '%q ' "${cmd[@]}" >"$logf.cmd"
echo >>"$logf.cmd"
: >"$logf"

nmi() { # monitor socket: the HMP "nmi" command, standard library only
	python3 - "$1" <<'PY' || true
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
time.sleep(0.5)
s.sendall(b"nmi\n")
time.sleep(0.5)
s.close()
PY
}

t0=$(date +%s)
"${cmd[@]}" </dev/null >"$logf.qemu" 2>&1 &
pid=$!
# Killed or interrupted, take the guest and its monitor socket along.
trap 'kill "$pid" 2>/dev/null || true; rm -f "$mon"' EXIT
trap 'exit 143' TERM INT
last_size=-1 last_change=$t0 status=poweroff reported=""
while kill -0 "$pid" 2>/dev/null; do
	sleep 1
	now=$(date +%s)
	size=$(stat -c %s "$logf" 2>/dev/null || echo 0)
	if [ "$size" != "$last_size" ]; then
		last_size=$size
		last_change=$now
		if [ -n "$grace" ] && [ -z "$reported" ] &&
			awk 'f && !/mmrace: # /; /mmrace: BEGIN /{ f = 1 }' "$logf" | grep -qaE "$splat"; then
			reported=$now
		fi
	elif [ $((now - last_change)) -ge "$silence" ]; then
		status=hung
	fi
	[ $((now - t0)) -ge "$max" ] && status=timeout
	if [ -n "$reported" ] && [ $((now - reported)) -ge "$grace" ]; then
		echo "mmrace-host: guest still running ${grace}s after its first report: stopped" >>"$logf"
		kill "$pid" 2>/dev/null || true
		status=stopped
		break
	fi
	if [ "$status" != poweroff ]; then
		echo "mmrace-host: guest $status: NMI to every CPU for backtraces" >>"$logf"
		nmi "$mon"
		# Up to 20 s for the panic report: QEMU exits when it reboots.
		for _ in $(seq 20); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 1
		done
		kill "$pid" 2>/dev/null || true
		break
	fi
done
wait "$pid" 2>/dev/null || true
rm -f "$mon"
echo "status=$status wall_s=$(($(date +%s) - t0)) accel=$accel smp=$smp mem=$mem" >"$logf.status"
case $status in
hung) echo "mmrace-host: guest hung (no console output for ${silence}s)" >>"$logf" ;;
timeout) echo "mmrace-host: guest timeout (still running after ${max}s)" >>"$logf" ;;
esac
