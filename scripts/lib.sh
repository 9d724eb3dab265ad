# shellcheck shell=bash
# Shared helpers for mmrace's host scripts: logging with elapsed time,
# the build cache layout, and the Debian packages the pipeline needs.

MMRACE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MMRACE_CACHE=${MMRACE_CACHE:-$HOME/.cache/mmrace}
MMRACE_T0=${MMRACE_T0:-$(date +%s)}
export MMRACE_TOP MMRACE_CACHE MMRACE_T0

log() {
	local now
	now=$(date +%s)
	printf '[%4ds] %s\n' "$((now - MMRACE_T0))" "$*" >&2
}

die() {
	printf 'mmrace: error: %s\n' "$*" >&2
	exit 1
}

# Every package any stage needs, so that one install runs up front.
# shellcheck disable=SC2034 # used by the scripts that source this file
MMRACE_PACKAGES=(qemu-system-x86 busybox-static linux-source-6.12
	linux-headers-amd64 linux-image-amd64 flex bison bc libelf-dev
	libssl-dev cpio kmod python3 gcc make perl xz-utils dkms rsync file zstd gdb)

ensure_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}); run as root or install them"
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt_wait
	# Lock::Timeout: apt itself waits too, should another one start now.
	apt-get -o DPkg::Lock::Timeout=900 update -qq >/dev/null || die "apt-get update failed"
	apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" \
		>/dev/null || die "apt-get install ${missing[*]} failed"
}

# Another apt (unattended-upgrades on a fleet host) holding the dpkg or
# lists lock is waited for, with a progress line, never a failure.
apt_wait() {
	local lock holder waited=0
	for lock in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock; do
		while holder=$(fuser "$lock" 2>/dev/null | tr -s ' ') && [ -n "$holder" ]; do
			holder=${holder# }
			[ $((waited % 30)) = 0 ] &&
				log "apt: $lock is held by pid ${holder%% *} ($(ps -o comm= -p "${holder%% *}" 2>/dev/null || echo '?')); waiting (${waited}s)"
			sleep 5
			waited=$((waited + 5))
		done
	done
}

# Tarball version + hash of the config fragment: a change to either
# builds a new kernel, and an unchanged pair is never rebuilt.
kernel_key() {
	local ver frag
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) || ver=unknown
	frag=$(cat "$MMRACE_TOP"/scripts/kernel/*.config | sha256sum | cut -c1-12)
	echo "6.12_${ver//[^A-Za-z0-9.+-]/_}_$frag"
}

debug_kdir() {
	echo "$MMRACE_CACHE/kernel/$(kernel_key)"
}

# One boot's options, shared by scripts/boot.sh and scripts/lava-boot.sh
# (run.sh calls either the same way).  Sets img initrd logf accel smp mem
# append silence max submit rr rrmode icount gdb grace splat.
# shellcheck disable=SC2034 # used by the scripts that call it
boot_opts() {
	accel=tcg smp=2 mem=1024 append="" silence=60 max=3600 submit=""
	img="" initrd="" logf="" rr="" rrmode="" icount=7 gdb="" grace="" splat=""
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
		--submit) submit=$2 ;;
		--record) rr=$2 rrmode=record ;;
		--replay) rr=$2 rrmode=replay ;;
		--icount) icount=$2 ;;
		--gdb) gdb=$2 ;;
		--grace) grace=$2 ;;
		--splat) splat=$2 ;;
		*) die "$(basename "$0"): unknown argument $1" ;;
		esac
		shift 2
	done
	if [ -z "$img" ] || [ -z "$initrd" ] || [ -z "$logf" ]; then
		die "$(basename "$0"): --kernel, --initrd and --log are required"
	fi
}
