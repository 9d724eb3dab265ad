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

# What kbuild itself needs: "make kernel" on a fresh machine installs it
# (flex was missing there once, and allnoconfig died on lexer.lex.c).
MMRACE_BUILD_PACKAGES=(flex bison bc libelf-dev libssl-dev cpio kmod gcc make
	perl xz-utils)
# Every package any stage needs, so that one install runs up front.
# shellcheck disable=SC2034 # used by the scripts that source this file
MMRACE_PACKAGES=(qemu-system-x86 busybox-static linux-source-6.12
	linux-headers-amd64 linux-image-amd64 "${MMRACE_BUILD_PACKAGES[@]}"
	python3 dkms rsync file zstd gdb)

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

# A kernel is a data file, scripts/kernels/NAME.kernel (its README says
# the keys).  kernel_load NAME [ARCH] reads it into K_<KEY> variables: on
# an ARCH other than the file's, NAME-ARCH.kernel ("debug" on arm64 is
# debug-arm64.kernel).  Only KEY=VALUE lines: a data file runs no code.
# shellcheck disable=SC2034 # K_*: read by the scripts that load a kernel
kernel_load() { # name [arch]
	local name=$1 arch=${2:-} f key val
	f=$MMRACE_TOP/scripts/kernels/$name.kernel
	if [ -n "$arch" ] && [ "$(sed -n 's/^arch=//p' "$f" 2>/dev/null)" != "$arch" ]; then
		name=$name-$arch
		f=$MMRACE_TOP/scripts/kernels/$name.kernel
	fi
	[ -f "$f" ] || die "no kernel '$name' (scripts/kernels/ has: $(find "$MMRACE_TOP/scripts/kernels" -name '*.kernel' -printf '%f\n' | sed 's/\.kernel$//' | sort | tr '\n' ' '))"
	K_NAME=$name K_ABOUT="" K_ARCH="" K_KIND="" K_SOURCE="" K_FRAGMENTS="" K_CROSS=""
	K_IMAGE="" K_FLAVOUR="" K_QEMU="" K_MACHINE="" K_CONSOLE="" K_APPEND=""
	K_BUSYBOX="" K_PACKAGES="" K_GUESTS=""
	while IFS= read -r line; do
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		[[ $line =~ ^([a-z_]+)=(.*)$ ]] || die "$f: not KEY=VALUE: $line"
		key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
		val=${val#\"} val=${val%\"}
		case $key in
		about | arch | kind | source | fragments | cross | image | flavour | qemu | machine | \
			console | append | busybox | packages | guests) printf -v "K_${key^^}" '%s' "$val" ;;
		*) die "$f: unknown key '$key' (scripts/kernels/README)" ;;
		esac
	done <"$f"
	case $K_KIND in
	source)
		if [ -z "$K_SOURCE" ] || [ -z "$K_FRAGMENTS" ] || [ -z "$K_IMAGE" ]; then
			die "$f: a source kernel needs source, fragments and image"
		fi
		;;
	installed) [ -n "$K_FLAVOUR" ] || die "$f: an installed kernel needs flavour" ;;
	*) die "$f: kind is source or installed, not '$K_KIND'" ;;
	esac
	if [ -z "$K_ARCH" ] || [ -z "$K_QEMU" ] || [ -z "$K_CONSOLE" ]; then
		die "$f: arch, qemu and console are required"
	fi
	[ -z "$K_GUESTS" ] || [[ $K_GUESTS =~ ^[1-9][0-9]*$ ]] ||
		die "$f: guests is a positive number, not '$K_GUESTS'"
}

# The kernel ARCH= wants: kbuild's name (ARCH=arm64), CROSS_COMPILE too.
kernel_make_args() {
	[ "$K_ARCH" = x86_64 ] && return 0
	echo "ARCH=$K_ARCH CROSS_COMPILE=$K_CROSS"
}

# A source kernel's cache key: the source package's version, the arch
# and a hash of its fragments (and cross prefix): a change to any builds
# a new kernel, and an unchanged triple is never rebuilt.
kernel_key() {
	local ver frag f
	ver=$(dpkg-query -W -f='${Version}' "$K_SOURCE" 2>/dev/null) || ver=unknown
	frag=$( (for f in $K_FRAGMENTS; do cat "$MMRACE_TOP/scripts/kernels/$f"; done
		echo "$K_CROSS") | sha256sum | cut -c1-12)
	echo "${K_SOURCE#linux-source-}_${ver//[^A-Za-z0-9.+-]/_}_${K_ARCH}_$frag"
}

kernel_kdir() {
	echo "$MMRACE_CACHE/kernel/$(kernel_key)"
}

# The guest's static busybox: the host's own, or Debian's
# busybox-static:<arch> for another arch, fetched once into the cache
# (apt-get download: nothing of the foreign arch is installed).
kernel_busybox() {
	local a=${K_BUSYBOX#busybox-static:} d deb
	if [ "$K_BUSYBOX" = host ]; then
		echo /bin/busybox
		return
	fi
	d=$MMRACE_CACHE/busybox/$a
	if [ ! -x "$d/bin/busybox" ]; then
		dpkg --print-foreign-architectures | grep -qx "$a" || {
			log "busybox: dpkg --add-architecture $a"
			dpkg --add-architecture "$a" && apt_wait && apt-get -o DPkg::Lock::Timeout=900 update -qq >/dev/null
		} || die "cannot add the $a architecture for $K_BUSYBOX"
		rm -rf "$d" && mkdir -p "$d"
		(cd "$d" && apt-get download -qq "$K_BUSYBOX" >/dev/null 2>&1) ||
			die "apt-get download $K_BUSYBOX failed"
		deb=$(find "$d" -name 'busybox-static_*.deb' | head -n 1)
		mkdir -p "$d/bin"
		dpkg-deb -x "$deb" "$d/x" || die "cannot unpack $deb"
		mv "$d/x/bin/busybox" "$d/bin/busybox" || die "no bin/busybox in $deb"
		rm -rf "$d/x" "$deb"
	fi
	echo "$d/bin/busybox"
}

# The x86_64 debug kernel's build tree, cached or not (KDIR's default).
debug_kdir() {
	kernel_load debug
	kernel_kdir
}

# One boot's options, shared by scripts/boot.sh and scripts/lava-boot.sh
# (run.sh calls either the same way).  Sets img initrd logf accel smp mem
# append silence max submit rr rrmode icount gdb grace splat, and the
# arch's qemu machine console karg (a kernel's data: x86_64 unless told).
# shellcheck disable=SC2034 # used by the scripts that call it
boot_opts() {
	accel=tcg smp=2 mem=1024 append="" silence=60 max=3600 submit=""
	img="" initrd="" logf="" rr="" rrmode="" icount=7 gdb="" grace="" splat=""
	qemu=qemu-system-x86_64 machine="" console=ttyS0 karg="no_timer_check tsc=reliable"
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
		--qemu) qemu=$2 ;;
		--machine) machine=$2 ;;
		--console) console=$2 ;;
		--karg) karg=$2 ;;
		--splat) splat=$2 ;;
		*) die "$(basename "$0"): unknown argument $1" ;;
		esac
		shift 2
	done
	if [ -z "$img" ] || [ -z "$initrd" ] || [ -z "$logf" ]; then
		die "$(basename "$0"): --kernel, --initrd and --log are required"
	fi
}
