#!/bin/bash
# The kernel's own crash suite through the judge: boot the debug kernel,
# provoke every lkdtm crash type of tests.txt, and give each case a row
# (scripts/lkdtm.py judge; expectations in tests/fixtures/lkdtm/expect.tsv).
#   The cases are dealt over -j chains that boot side by side.  A boot
#   runs its chain's cases in order (the survivors first) until one kills
#   the kernel (oops=panic); the chain's next boot starts at the first
#   case not begun, so each killer costs one boot and none is dropped.
# usage: lkdtm.sh [-j N] [--results DIR] [--only REGEX]
#                 [--kdir KERNEL_BUILD_DIR] [--ko LKDTM.KO]
# Prints the rows (PASS/FAIL/SKIP, tab-separated); exits 1 on any FAIL.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

jobs=2 results="" only="" kdir="" ko=""
while [ $# -gt 0 ]; do
	case $1 in
	-j) jobs=$2; shift ;;
	--results) results=$2; shift ;;
	--only) only=$2; shift ;;
	--kdir) kdir=$2; shift ;;
	--ko) ko=$2; shift ;;
	-h|--help) sed -n '2,11p' "$0"; exit 0 ;;
	*) die "lkdtm.sh: unknown argument '$1' (see --help)" ;;
	esac
	shift
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "-j wants a positive number, not '$jobs'"

ensure_packages "${MMRACE_PACKAGES[@]}"
[ -n "$kdir" ] || kdir=$(bash "$MMRACE_TOP/scripts/build-kernel.sh")
img=$kdir/arch/x86/boot/bzImage
ko=${ko:-$kdir/drivers/misc/lkdtm/lkdtm.ko}
[ -f "$ko" ] || die "no $ko (a kernel with CONFIG_LKDTM=m)"
tests=$(readlink -f "$kdir/source")/tools/testing/selftests/lkdtm/tests.txt
[ -f "$tests" ] || die "no $tests"
expect=$MMRACE_TOP/tests/fixtures/lkdtm/expect.tsv
accel=$(bash "$MMRACE_TOP/scripts/kvm-probe.sh" "$img")
log "lkdtm: $accel, kernel $img, $ko"

res=${results:-$MMRACE_TOP/results/$(date +%Y%m%d-%H%M%S)-lkdtm}
mkdir -p "$res/boots"
cp "$tests" "$res/tests.txt"
cp "$expect" "$res/expect.tsv"
cp "$kdir/.config" "$res/kernel.config"
: >"$res/params"
python3 "$MMRACE_TOP/scripts/lkdtm.py" plan "$tests" "$expect" "$jobs" |
	awk -F'\t' -v re="$only" '{ split($2, w, " ") } re == "" || w[2] ~ re' >"$res/plan.txt"
[ -s "$res/plan.txt" ] || die "--only '$only' selects no lkdtm case"

# printk.devkmsg=on: the guest's window markers go through /dev/kmsg,
# which otherwise lets 10 lines through per 5 s.  slub_debug: red zones,
# poison and free checks, so that the slab cases report at the slab
# (SLUB_DEBUG is built, off by default) instead of corrupting a freelist
# that a later case then trips over.  kfence.sample_interval=0: a KFENCE
# object under an lkdtm allocation would make the report another kind's
# now and then.
append="printk.devkmsg=on slub_debug=FZPU kfence.sample_interval=0"

chain() { # index: boot until its cases have all begun
	local c=$1 n=0 stuck=0 d left
	left=$res/left.$c
	awk -F'\t' -v c="$c" '$1 == c { print $2 }' "$res/plan.txt" >"$left"
	while [ -s "$left" ]; do
		n=$((n + 1))
		d=$res/boots/c$c-$n
		mkdir -p "$d"
		cp "$left" "$d/plan"
		bash "$MMRACE_TOP/scripts/mkinitramfs.sh" "$d/initrd.gz" "" "$d/plan" "$res/params" "" "" "$ko"
		# One vCPU, 512 MB: no case left to run needs a second CPU,
		# and the host's cores are shared with the other chain.
		bash "$MMRACE_TOP/scripts/boot.sh" --kernel "$img" --initrd "$d/initrd.gz" \
			--log "$d/console.log" --accel "$accel" --smp 1 --mem 512 --silence 30 \
			--append "$append"
		rm -f "$d/initrd.gz"
		python3 "$MMRACE_TOP/scripts/lkdtm.py" remaining "$d/plan" "$d/console.log" >"$left.new"
		if [ "$(wc -l <"$left.new")" -eq "$(wc -l <"$left")" ]; then
			# No case began: the kernel died before /init ran its plan
			# (seen under TCG now and then).  Once more, then give up:
			# the judge reports what never began as FAIL, not a silence.
			stuck=$((stuck + 1))
			log "lkdtm boot c$c-$n: no case began ($(cut -d' ' -f1,2 "$d/console.log.status"))"
			[ "$stuck" -lt 2 ] || break
		else
			stuck=0
		fi
		mv "$left.new" "$left"
		log "lkdtm boot c$c-$n: $(cut -d' ' -f1,2 "$d/console.log.status"), $(wc -l <"$left") cases left"
	done
	rm -f "$left" "$left.new"
}

# Interrupted, stop the chains (boot.sh then kills its guest).
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
trap 'exit 143' TERM INT
while read -r c; do
	chain "$c" &
done < <(cut -f1 "$res/plan.txt" | sort -u)
wait
trap - EXIT

# Only the selected cases get rows: the others never ran.
python3 "$MMRACE_TOP/scripts/lkdtm.py" judge --only "$only" "$res/tests.txt" "$expect" \
	"$res"/boots/*/console.log | tee "$res/lkdtm.tsv"
