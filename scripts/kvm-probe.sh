#!/bin/bash
# Print "kvm" if a short KVM boot of IMG reaches userspace, else "tcg".
# On these machines /dev/kvm is missing, or present while a KVM guest
# hangs: only a boot that really prints proves KVM.  The answer is
# cached per machine and kernel for a day.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

img=${1:?usage: kvm-probe.sh BZIMAGE}
[ "${MMRACE_ACCEL:-}" ] && { echo "$MMRACE_ACCEL"; exit 0; }
[ -e /dev/kvm ] || { echo tcg; exit 0; }
cache=$MMRACE_CACHE/kvm-probe.$(sha256sum "$img" | cut -c1-12)
if [ -n "$(find "$cache" -mmin -1440 2>/dev/null)" ]; then
	cat "$cache"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin"
cp /bin/busybox "$tmp/root/bin/"
printf '#!/bin/busybox sh\n/bin/busybox echo mmrace-kvm-ok\n/bin/busybox reboot -f\n' >"$tmp/root/init"
chmod +x "$tmp/root/init"
(cd "$tmp/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/i.gz"
# A KVM QEMU that aborts must not print bash's "Aborted" job notice: the
# subshell reaps it itself (not the last command, so bash does not exec
# it) and its own stderr goes nowhere.
( timeout 20 qemu-system-x86_64 -accel kvm -cpu host -smp 2 -m 512 -display none \
	-monitor none -no-reboot -serial "file:$tmp/log" -kernel "$img" \
	-initrd "$tmp/i.gz" -append "console=ttyS0 panic=-1" </dev/null || true ) \
	>/dev/null 2>&1
if grep -q mmrace-kvm-ok "$tmp/log" 2>/dev/null; then
	echo kvm | tee "$cache"
else
	log "kvm: /dev/kvm exists but a KVM guest did not boot in 20 s; using TCG"
	echo tcg | tee "$cache"
fi
