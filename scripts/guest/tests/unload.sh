#!/bin/busybox sh
# Guest test: rmmod at any moment stops every run and frees everything;
# load again and run: nothing left behind.  Cycles from $UNLOAD_CYCLES.
D=/sys/kernel/debug/mmrace
n=${UNLOAD_CYCLES:-5}
ok=0
i=0
set -- $(sed 's|/.*||' "$D/scenarios" | sort -u)
scenarios="$*"
while [ $i -lt "$n" ]; do
	i=$((i + 1))
	# A different scenario each cycle, stopped after 0..1.5 s.
	set -- $scenarios
	k=$((i % $#))
	shift $k
	sc=$1
	v=$(grep "^$sc/" "$D/scenarios" | grep 'expect=clean' | head -n 1 | sed 's|^[^/]*/||; s| .*||')
	[ -n "$v" ] && echo "$v" >"$D/$sc/variant"
	echo 10000 >"$D/$sc/duration_ms"
	echo 1 >"$D/$sc/run"
	usleep $(( (i * 373) % 1500 * 1000 ))
	t0=$(date +%s)
	if rmmod mmrace && insmod /mmrace.ko; then
		t1=$(date +%s)
		[ $((t1 - t0)) -le 10 ] && ok=$((ok + 1))
	else
		echo "mmrace-test: not ok unload_cycle_$i ($sc)"
		insmod /mmrace.ko 2>/dev/null
	fi
done
[ "$ok" = "$n" ]
if [ $? = 0 ]; then
	echo "mmrace-test: ok unload_mid_run ($n cycles)"
else
	echo "mmrace-test: not ok unload_mid_run ($ok of $n cycles clean)"
fi
