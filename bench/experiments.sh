#!/bin/sh
# bench/experiments.sh - `make bench-experiments`: what limits sequential I/O
# through FUSE here, measured on the floor server (bench/floor.c) with one
# change at a time: splice replies (with and without a pipe big enough for
# a 1 MiB reply), clone_fd, a single thread, smaller requests, kernel FUSE
# passthrough, splice-received writes and parallel direct writes; and how
# many shared anonymous mappings mmapfs can hold under the open-files limit.
# Prints one table; doc/performance.md discusses it.
#
# usage: experiments.sh BUILDDIR    (root: it changes fs.pipe-max-size for
# the run and restores it; passthrough needs CAP_SYS_ADMIN and Linux 6.9+)
# shellcheck disable=SC2154 # PID_* are set by start_ready through eval
set -eu

# shellcheck disable=SC2034 # BUILD is read by lib.sh
BUILD=$(cd "${1:?usage: experiments.sh BUILDDIR}" && pwd)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

bench_setup
say "bench: experiments, $SIZE_MB MiB file in $DATA ($(data_fs)); best of $RUNS runs"
drop_and_warm

# server CPU time (utime + stime) of PID, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)

# measure LABEL PID DDARGS...: best rate of RUNS dd runs (after one untimed),
# and the server's CPU time per GiB over the timed runs.
measure() {
	label=$1 pid=$2
	shift 2
	dd_rate "$@" >/dev/null
	c0=0 c1=0
	[ "$pid" = - ] || c0=$(cpu_ticks "$pid")
	best=''
	for _ in $(seq "$RUNS"); do best=$(max "$best" "$(dd_rate "$@")"); done
	[ "$pid" = - ] || c1=$(cpu_ticks "$pid")
	ms=$(awk -v t="$((c1 - c0))" -v hz="$TCK" -v n="$RUNS" -v mb="$SIZE_MB" \
		'BEGIN { printf "%.0f", t * 1000 / hz / (n * mb / 1024) }')
	[ "$pid" = - ] && ms=-
	printf '%-52s %8s GB/s   %5s ms CPU/GiB in the server\n' "$label" "$best" "$ms"
}

# floor NAME [OPTIONS...]: start a floor server on $TMP/NAME; sets P
floor() {
	n=$1
	shift
	start_ready "$n" "$TMP/$n" "$FLOOR" -o file="$FILE" "$@"
	eval "P=\$PID_$n"
}

read_test() { measure "$1" "$2" if="$3" of=/dev/null; }
write_test() { measure "$1" "$2" if=/dev/zero of="$3" conv=notrunc; }

echo
echo "floor experiments, $(date -u '+%Y-%m-%d %H:%M UTC'): dd bs=1M of $SIZE_MB MiB, best of $RUNS"
echo "-- sequential read"
read_test 'backing file, direct (no server)' - "$FILE"
floor copy
read_test 'floor: reply from the mapping (fuse_reply_buf)' "$P" "$TMP/copy/data"

# Splice through a pipe that cannot hold a 1 MiB reply: libfuse falls back
# to pread into a fresh buffer and writev, silently.
if [ -w /proc/sys/fs/pipe-max-size ]; then
	PIPE_MAX_SAVED=$(cat /proc/sys/fs/pipe-max-size)
	echo 1048576 >/proc/sys/fs/pipe-max-size
	floor splice1m -o splice
	read_test 'floor: splice reply, pipe-max-size 1 MiB (falls back)' "$P" "$TMP/splice1m/data"
	echo 2097152 >/proc/sys/fs/pipe-max-size
	floor splice -o splice
	read_test 'floor: splice reply, pipe-max-size 2 MiB' "$P" "$TMP/splice/data"
	floor splice512 -o splice -o max_read=524288
	read_test 'floor: splice reply, 512 KiB requests' "$P" "$TMP/splice512/data"
fi
floor clone -o clone_fd
read_test 'floor: -o clone_fd' "$P" "$TMP/clone/data"
floor single -s
read_test 'floor: -s (one thread)' "$P" "$TMP/single/data"
for kib in 128 256 512; do
	floor "req$kib" -o max_read=$((kib * 1024))
	read_test "floor: $kib KiB requests (-o max_read)" "$P" "$TMP/req$kib/data"
done
measure 'floor: dd bs=4M (4 requests in flight)' "$PID_copy" if="$TMP/copy/data" of=/dev/null bs=4M count=$((SIZE_MB / 4))
PT=''
if floor passthrough -o passthrough 2>/dev/null && cmp -s "$FILE" "$TMP/passthrough/data"; then
	PT=$TMP/passthrough/data
	read_test 'floor: kernel passthrough (FOPEN_PASSTHROUGH)' "$P" "$PT"
else
	echo "floor: kernel passthrough: not available here (needs Linux 6.9+ and CAP_SYS_ADMIN)"
fi
start_passthrough_ll "$TMP/ptll"
if [ -n "$PTLL" ]; then
	read_test 'passthrough_ll -o cache=never' "$(pids_of_exe "$TMP/passthrough_ll")" "$PTLL/file"
fi

echo "-- sequential write"
write_test 'backing file, direct (no server)' - "$FILE"
write_test 'floor: copy into the mapping' "$PID_copy" "$TMP/copy/data"
floor splice_read -o splice_read
write_test 'floor: splice-received, spliced into the file' "$P" "$TMP/splice_read/data"
[ -z "$PT" ] || write_test 'floor: kernel passthrough' "$PID_passthrough" "$PT"

# Two writers on two halves of one file: FOPEN_PARALLEL_DIRECT_WRITES lets
# the kernel send their requests at once instead of one inode at a time.
two_writers() {
	half=$((SIZE_MB / 2))
	best=''
	for _ in $(seq "$RUNS"); do
		t0=$(date +%s%N)
		dd if=/dev/zero of="$1" bs=1M count=$half conv=notrunc status=none &
		w=$!
		dd if=/dev/zero of="$1" bs=1M count=$half seek=$half conv=notrunc status=none
		wait "$w"
		t1=$(date +%s%N)
		best=$(max "$best" "$(awk -v ns="$((t1 - t0))" -v mb="$SIZE_MB" 'BEGIN { printf "%.3f", mb * 1048576 / ns }')")
	done
	echo "$best"
}
floor pdw -o pdw
printf '%-52s %8s GB/s\n' 'floor: two writers' "$(two_writers "$TMP/copy/data")"
printf '%-52s %8s GB/s\n' 'floor: two writers, FOPEN_PARALLEL_DIRECT_WRITES' "$(two_writers "$TMP/pdw/data")"

echo "-- latency of an 8-byte pread at scattered offsets"
for n in copy clone single; do
	printf '%-52s %8s\n' "floor ($n)" "$(us "$("$LAT" pread "$TMP/$n/data" 20000 "$RUNS")")"
done

echo "-- mmapfs: lookups and memory"
start_ready mm "$TMP/mm" "$MMAPFS" -o max_maps=60000
exec 3<>"$TMP/mm/ctl"
echo "map $FILE" >&3
read -r name <&3
exec 3>&-
# maps/NAME is looked up anew on every path walk (entry timeout 0); openat
# from the open directory shows what caching that entry would save.
printf '%-52s %8s\n' 'open+read+close maps/N/pos' "$(us "$("$LAT" orc "$TMP/mm/maps/$name/pos" 20000 "$RUNS")")"
printf '%-52s %8s\n' '  the same by openat() from maps/N (no lookup of N)' "$(us "$("$LAT" orcat "$TMP/mm/maps/$name" pos 20000 "$RUNS")")"
printf '%-52s %8s\n' 'open+read+close floor data' "$(us "$("$LAT" orc "$TMP/copy/data" 20000 "$RUNS")")"

# Shared anonymous mappings each hold a memfd: how many fit under the
# open-files limit, and what one costs in the server and in the kernel.
rss0=$(status_kb "$PID_mm" RssAnon) slab0=$(meminfo_kb Slab) pte0=$(status_kb "$PID_mm" VmPTE)
if "$LAT" fill "$TMP/mm" 50001 2>"$TMP/fill.err"; then
	echo "50000 shared anonymous mappings: ok (open files limit $(ulimit -n))"
else
	echo "shared anonymous mappings under an open files limit of $(ulimit -n): $(($(ls "$TMP/mm/maps" | wc -l) - 1)), then: $(cat "$TMP/fill.err")"
fi
n=$(($(ls "$TMP/mm/maps" | wc -l) - 1))
rss1=$(status_kb "$PID_mm" RssAnon) slab1=$(meminfo_kb Slab) pte1=$(status_kb "$PID_mm" VmPTE)
awk -v r="$((rss1 - rss0))" -v k="$((slab1 - slab0 + pte1 - pte0))" -v n="$n" 'BEGIN {
	printf "per shared anonymous mapping: %.0f B of server heap (RssAnon), ~%.0f B of kernel slab and page tables\n", r * 1024 / n, k * 1024 / n }'
# Shut it down with its descriptor table full: the contract is a clean exit 0.
fusermount3 -u "$TMP/mm"
st=0
wait "$PID_mm" 2>/dev/null || st=$?
echo "mmapfs exit status on unmount with its descriptor table full: $st (0 is a clean shutdown)"
