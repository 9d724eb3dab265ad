#!/bin/bash
# One boot as a LAVA job: boot.sh's interface, run by lava-run offline
# (no lava-server), or with --submit URL by a real lab through lavacli.
# usage: lava-boot.sh --kernel IMG --initrd CPIO --log FILE [--accel tcg]
#        [--smp N] [--mem MB] [--append "..."] [--silence S] [--submit URL]
# Writes FILE (the console, taken out of LAVA's log stream), FILE.cmd (the
# exact command), FILE.status (status=poweroff, or status=lava_error with
# LAVA's reason on the next line), FILE.lava (the whole log stream) and
# the job beside them (job.yaml, device.yaml).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

boot_opts "$@"
[ -z "$rrmode$gdb" ] || die "lava-boot.sh: record, replay and gdb are boot.sh's (one CPU, this host)"
command -v lava-run >/dev/null || die "lava-run missing (apt-get install lava-dispatcher)"

d=$(dirname "$logf")
# The kernel arguments are boot.sh's own, so both backends boot alike.
full="console=ttyS0 panic=-1 oops=panic ftrace_dump_on_oops=orig_cpu trace_buf_size=256K kunit.enable=1 no_timer_check tsc=reliable $append"
# The initramfs is kept with the job: LAVA deploys it from a file:// URL.
cp "$initrd" "$d/initrd.lava.gz"
# A LAVA timeout is the whole test's, not a silence: plan.py's silence
# bounds a quiet guest, and a run lasts at most a few minutes more.
python3 "$MMRACE_TOP/scripts/lava.py" job --name "$(basename "$d")" --kernel "$img" \
	--initrd "$d/initrd.lava.gz" --append "$full" --timeout $((silence + 240)) \
	--smp "$smp" --mem "$mem" --accel "$accel" --out "$d"
t0=$(date +%s)
if [ -n "$submit" ]; then
	# A real lab: its own device dictionary renders the job's context.
	command -v lavacli >/dev/null || die "lavacli missing (apt-get install lavacli)"
	cmd=(lavacli --uri "$submit" jobs submit "$d/job.yaml")
	printf '%q ' "${cmd[@]}" >"$logf.cmd"
	echo >>"$logf.cmd"
	id=$("${cmd[@]}")
	log "lava: job $id submitted to $submit"
	lavacli --uri "$submit" jobs wait "$id" >/dev/null 2>&1 || true
	lavacli --uri "$submit" jobs logs --raw "$id" >"$logf.lava" 2>&1 || true
else
	out=$(mktemp -d /tmp/mmrace-lava.XXXXXX)
	cmd=(lava-run --job-id "$$" --output-dir "$out" --device "$d/device.yaml" "$d/job.yaml")
	printf '%q ' "${cmd[@]}" >"$logf.cmd"
	echo >>"$logf.cmd"
	# Killed or interrupted, take lava-run (and its QEMU) along.
	"${cmd[@]}" >"$logf.lava.out" 2>"$logf.lava" &
	pid=$!
	trap 'kill "$pid" 2>/dev/null || true; rm -rf "$out"' EXIT
	trap 'exit 143' TERM INT
	wait "$pid" || true
	rm -rf "$out"
fi
python3 "$MMRACE_TOP/scripts/lava.py" console "$logf.lava" --console "$logf" \
	--status "$logf.status" --wall-s $(($(date +%s) - t0))
rm -f "$d/initrd.lava.gz"
