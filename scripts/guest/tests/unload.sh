#!/bin/busybox sh
# shellcheck shell=dash
# Guest test: rmmod at any moment stops every run and frees everything;
# load again and run: nothing left behind.  $UNLOAD_CYCLES cycles, each
# on the next scenario's first clean variant, unloaded after 0..1.5 s;
# then kmemleak (booted with kmemleak=on) must find nothing of mmrace's,
# and the free memory must be back: kmemleak does not track alloc_page(),
# and every scenario's pool, zone, vmemmap and page cache is pages.
D=/sys/kernel/debug/mmrace
K=/sys/kernel/debug/kmemleak
n=${UNLOAD_CYCLES:-20}
# Whatever boot left behind is not ours.
[ -w $K ] && echo clear >$K
# "Stuck" is what the hung-task detector says (30 s in the guest): a
# TCG guest on a loaded host may need seconds for the grace periods and
# TLB flush IPIs of a teardown, which is slow, not stuck.
limit=30
ok=0
i=0
max=0
sed 's|/.*||' "$D/scenarios" | uniq >/tmp/scenarios
free_kb() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	sed -n 's/^MemFree: *\([0-9]*\) kB/\1/p' /proc/meminfo
}
free0=
nsc=$(wc -l </tmp/scenarios)
while [ $i -lt "$n" ]; do
	i=$((i + 1))
	sc=$(sed -n "$((i % nsc + 1))p" /tmp/scenarios)
	v=$(grep "^$sc/.* expect=clean" "$D/scenarios" | head -n 1 | sed 's|^[^/]*/||; s| .*||')
	[ -n "$v" ] && echo "$v" >"$D/$sc/variant"
	echo 10000 >"$D/$sc/duration_ms"
	echo 1 >"$D/$sc/run"
	usleep $(((i * 373) % 1500 * 1000))
	t0=$(date +%s)
	if rmmod mmrace && insmod /mmrace.ko; then
		dt=$(($(date +%s) - t0))
		[ "$dt" -gt "$max" ] && max=$dt
		[ "$dt" -le $limit ] && ok=$((ok + 1))
		# The baseline after one cycle: the tests before this one leave
		# grace periods and slabs behind that settle only now.
		[ -n "$free0" ] || free0=$(free_kb)
	else
		echo "mmrace-test: not ok unload_cycle_$i ($sc)"
		insmod /mmrace.ko 2>/dev/null
	fi
done
if [ "$ok" = "$n" ]; then
	echo "mmrace-test: ok unload_mid_run ($n cycles, slowest rmmod+insmod ${max} s)"
else
	echo "mmrace-test: not ok unload_mid_run ($ok of $n cycles within ${limit} s, slowest ${max} s)"
fi
# The real allocator's per-CPU lists and slabs move a few MB either way;
# one leaked run of the smallest scenario is more than that times cycles.
free1=$(free_kb)
lost=$(((${free0:-$free1} - free1) / 1024))
if [ "$lost" -le 16 ]; then
	echo "mmrace-test: ok pages_returned (free memory ${lost} MB below the first cycle's after $n cycles; limit 16 MB)"
else
	echo "mmrace-test: not ok pages_returned (free memory ${lost} MB below the first cycle's after $n cycles; limit 16 MB)"
fi
if [ -w $K ]; then
	# Twice: an object is reported only once it stayed unreferenced.
	echo scan >$K
	sleep 6
	echo scan >$K
	all=$(grep -c '^unreferenced object' $K)
	ours=$(grep -c 'mmrace' $K)
	if [ "$ours" = 0 ]; then
		echo "mmrace-test: ok kmemleak ($all suspects in the kernel, none from mmrace after $n cycles)"
	else
		echo "mmrace-test: not ok kmemleak ($ours stack lines name mmrace)"
		grep -B2 -A14 'mmrace' $K | head -n 60
	fi
else
	echo "mmrace-test: skip kmemleak (no $K: boot with kmemleak=on on a CONFIG_DEBUG_KMEMLEAK kernel)"
fi
