#!/bin/sh
# bench/run.sh - `make bench`: measures mmapfs against the backing file read
# directly, libfuse's passthrough_ll and the floor server (bench/floor.c),
# and prints one table with each target and whether it is met.
#
# usage: run.sh BUILDDIR     (make bench passes the top build directory)
# BENCH_RUNS=N (default 7): each figure is the best of N runs.
# Needs root for drop_caches and fs.pipe-max-size; runs in about a minute.
# shellcheck disable=SC3045,SC2154 # ulimit -n/-H: dash and bash have them; R_*, W_*, PID_* are set by eval
set -eu

# shellcheck disable=SC2034 # BUILD is read by lib.sh
BUILD=$(cd "${1:?usage: run.sh BUILDDIR}" && pwd)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

SCALES="10 1000 50000"
SCALE_MAX=50000
LAT_COUNT=${BENCH_LAT_COUNT:-20000}	# ops per latency round
PROBE_COUNT=${BENCH_PROBE_COUNT:-5000}	# ops per lookup round
CTL_COUNT=${BENCH_CTL_COUNT:-3000}	# map+close pairs per round

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
bench_setup
raise_pipe_max
say "bench: $SIZE_MB MiB file in $DATA ($(data_fs)); best of $RUNS runs"

# ---- servers --------------------------------------------------------------
start_ready floor "$TMP/floor" "$FLOOR" -o file="$FILE"
start_ready splice "$TMP/splice" "$FLOOR" -o file="$FILE" -o splice
start_ready kpt "$TMP/kpt" "$FLOOR" -o file="$FILE" -o passthrough
start_ready mmapfs "$TMP/mmapfs" "$MMAPFS"
start_ready mmapfs_pt "$TMP/mmapfs_pt" "$MMAPFS" -o passthrough
start_passthrough_ll "$TMP/ptll"

M=$TMP/mmapfs
exec 3<>"$M/ctl"
echo "map $FILE" >&3
read -r NAME <&3
exec 3>&-
[ -f "$M/maps/$NAME/data" ] || die "mmapfs did not map $FILE"
MP=$TMP/mmapfs_pt
echo "map $FILE name=pt" >"$MP/ctl"
[ -f "$MP/maps/pt/data" ] || die "mmapfs -o passthrough did not map $FILE"
# Its stats say whether the kernel took passthrough (Linux 6.9+, root).
PT_STATE=$(sed -n 's/^passthrough //p' "$MP/stats")

# ---- 1. sequential read ---------------------------------------------------
say "bench: sequential read"
drop_and_warm
# Kernel passthrough needs Linux 6.9+ and CAP_SYS_ADMIN; without, opens fail.
KPT=''
cmp -s "$FILE" "$TMP/kpt/data" 2>/dev/null && KPT=kpt
SOURCES="direct floor splice ${KPT} mmapfs mmapfs_pt${PTLL:+ ptll}"
src_path() {
	case $1 in
	direct) echo "$FILE" ;;
	floor) echo "$TMP/floor/data" ;;
	splice) echo "$TMP/splice/data" ;;
	kpt) echo "$TMP/kpt/data" ;;
	mmapfs) echo "$M/maps/$NAME/data" ;;
	mmapfs_pt) echo "$MP/maps/pt/data" ;;
	ptll) echo "$PTLL/file" ;;
	esac
}
# One untimed read each (faults the servers' mappings in), then the timed
# runs, interleaved so that a slow moment of the machine hits all alike.
for s in $SOURCES; do dd_rate if="$(src_path "$s")" of=/dev/null >/dev/null; done
for s in $SOURCES; do eval "R_$s=''"; done
for _ in $(seq "$RUNS"); do
	for s in $SOURCES; do
		r=$(dd_rate if="$(src_path "$s")" of=/dev/null)
		eval "R_$s=\$(max \"\$R_$s\" \"$r\")"
	done
done
R_ptll=${R_ptll:-} R_kpt=${R_kpt:-}

# ---- 2. sequential write --------------------------------------------------
say "bench: sequential write"
WSOURCES="direct floor mmapfs"
for s in $WSOURCES; do dd_rate if=/dev/zero of="$(src_path "$s")" conv=notrunc >/dev/null; done
for s in $WSOURCES; do eval "W_$s=''"; done
for _ in $(seq "$RUNS"); do
	for s in $WSOURCES; do
		r=$(dd_rate if=/dev/zero of="$(src_path "$s")" conv=notrunc)
		eval "W_$s=\$(max \"\$W_$s\" \"$r\")"
	done
done

# ---- 3. latency -----------------------------------------------------------
say "bench: latency"
# One round of each in turn, RUNS times, keeping each one's best.
L_floor='' L_mmapfs='' O_floor='' O_pos=''
for _ in $(seq "$RUNS"); do
	L_floor=$(min "$L_floor" "$("$LAT" pread "$TMP/floor/data" "$LAT_COUNT" 1)")
	L_mmapfs=$(min "$L_mmapfs" "$("$LAT" pread "$M/maps/$NAME/data" "$LAT_COUNT" 1)")
	O_floor=$(min "$O_floor" "$("$LAT" orc "$TMP/floor/data" "$LAT_COUNT" 1)")
	O_pos=$(min "$O_pos" "$("$LAT" orc "$M/maps/$NAME/pos" "$LAT_COUNT" 1)")
done

# ---- 4-6. control plane, scale, memory: a server of their own -------------
# A shared anonymous mapping holds a memfd, so 50,000 of them need 50,000
# descriptors: raise the soft limit as far as the hard limit lets us.
want=$((SCALE_MAX + 1000))
if [ "$(ulimit -n)" -lt "$want" ]; then
	ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -H -n)"
fi
NOFILE=$(ulimit -n)
MAPCMD="map anon length=4096"
MAPNOTE=''
if [ "$NOFILE" -lt "$want" ]; then
	MAPCMD="map anon length=4096 flags=private"
	MAPNOTE="open files limit $NOFILE (hard) < $want: shared anonymous maps hold a memfd each, so scale and memory use flags=private maps"
fi
say "bench: control plane, scale and memory (${MAPCMD#map })"
start_ready scale "$TMP/scale" "$MMAPFS" -o max_maps=60000
S=$TMP/scale
CTL_RATE=$("$LAT" ctl "$S" "$CTL_COUNT" "$RUNS")

RSS0=$(status_kb "$PID_scale" VmRSS)
SHM0=$(status_kb "$PID_scale" RssShmem)
SLAB0=$(meminfo_kb Slab)
PT0=$(status_kb "$PID_scale" VmPTE)
for n in $SCALES; do
	"$LAT" fill "$S" "$n" "$MAPCMD"
	if [ "$n" -eq "$SCALE_MAX" ]; then # idle: nothing but the map commands yet
		RSS1=$(status_kb "$PID_scale" VmRSS)
		SHM1=$(status_kb "$PID_scale" RssShmem)
		SLAB1=$(meminfo_kb Slab)
		PT1=$(status_kb "$PID_scale" VmPTE)
	fi
	eval "ST_$n=\$(\"\$LAT\" stat \"\$S\" $n \"\$PROBE_COUNT\" \"\$RUNS\")"
	eval "SZ_$n=\$(\"\$LAT\" size \"\$S\" $n \"\$PROBE_COUNT\" \"\$RUNS\")"
	# shellcheck disable=SC2046 # two numbers: ns per entry, entries
	set -- $("$LAT" list "$S" 3 "$RUNS")
	[ "$2" -eq "$n" ] || die "maps/ lists $2 mappings, not $n"
	eval "LS_$n=$1"
done
RSS2=$(status_kb "$PID_scale" VmRSS)
PER_MAP=$(awk -v r="$((RSS1 - RSS0))" -v s="$((SHM1 - SHM0))" -v n="$SCALE_MAX" \
	'BEGIN { printf "%.0f\n", (r - s) * 1024 / n }')
LISTED_PER_MAP=$(awk -v r="$((RSS2 - RSS1))" -v n="$SCALE_MAX" 'BEGIN { printf "%.0f\n", r * 1024 / n }')
KERNEL_PER_MAP=$(awk -v s="$((SLAB1 - SLAB0 + PT1 - PT0))" -v n="$SCALE_MAX" \
	'BEGIN { v = s * 1024 / n; printf "%.0f\n", v < 0 ? 0 : v }')

# ---- the table ------------------------------------------------------------
gbs() { [ -n "$1" ] && printf '%.2f GB/s' "$1" || printf 'n/a'; }
row() { printf '%-2s %-44s %-22s %-20s %6s  %-21s %s\n' "$@"; }

RD_FLOOR=$(ratio "$R_mmapfs" "$R_floor")
RD_PTLL=$(ratio "$R_mmapfs" "$R_ptll")
WR_FLOOR=$(ratio "$W_mmapfs" "$W_floor")
LT_FLOOR=$(ratio "$L_mmapfs" "$L_floor")
ST_RATIO=$(ratio "$ST_50000" "$ST_10")
SZ_RATIO=$(ratio "$SZ_50000" "$SZ_10")
LS_RATIO=$(ratio "$LS_50000" "$LS_1000")
trio() { printf '%s / %s / %s' "$(us "$1" | cut -d' ' -f1)" "$(us "$2" | cut -d' ' -f1)" "$(us "$3")"; }

echo
echo "mmapfs benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'): $SIZE_MB MiB file on $(data_fs), dd bs=1M, best of $RUNS runs"
row '#' measurement result reference ratio target met
row 1 'read: backing file, direct' "$(gbs "$R_direct")"
row 1 'read: passthrough_ll -o cache=never' "$(gbs "$R_ptll")"
row 1 'read: floor (reply from mapping)' "$(gbs "$R_floor")"
row 1 'read: floor, splice reply (prototype)' "$(gbs "$R_splice")" "floor $(gbs "$R_floor")" "$(ratio "$R_splice" "$R_floor")"
row 1 'read: floor, kernel passthrough (prototype)' "$(gbs "$R_kpt")" "pt_ll $(gbs "$R_ptll")" "$(ratio "$R_kpt" "$R_ptll")" '(what >= 10 x needs)'
row 1 'read: mmapfs maps/N/data' "$(gbs "$R_mmapfs")" "floor $(gbs "$R_floor")" "$RD_FLOOR" '>= 0.9 x floor' "$(meets "$RD_FLOOR" '>=' 0.9)"
row 1 'read: mmapfs -o passthrough' "$(gbs "$R_mmapfs_pt")" "floor $(gbs "$R_floor")" "$(ratio "$R_mmapfs_pt" "$R_floor")" '>= 1.3 x floor' "$(meets "$(ratio "$R_mmapfs_pt" "$R_floor")" '>=' 1.3)"
row 1 '  -o passthrough vs direct, pt_ll' '' "direct $(gbs "$R_direct")" "$(ratio "$R_mmapfs_pt" "$R_direct")" "(pt_ll x $(ratio "$R_mmapfs_pt" "$R_ptll"))"
row 1 'read: mmapfs vs passthrough_ll' '' "pt_ll $(gbs "$R_ptll")" "$RD_PTLL" '>= 10 x passthrough_ll' "$(meets "$RD_PTLL" '>=' 10)"
row 2 'write: backing file, direct' "$(gbs "$W_direct")"
row 2 'write: floor' "$(gbs "$W_floor")"
row 2 'write: mmapfs maps/N/data' "$(gbs "$W_mmapfs")" "floor $(gbs "$W_floor")" "$WR_FLOOR" '>= 0.8 x floor' "$(meets "$WR_FLOOR" '>=' 0.8)"
row 3 '8-byte pread, scattered: floor' "$(us "$L_floor")"
row 3 '8-byte pread, scattered: mmapfs data' "$(us "$L_mmapfs")" "floor $(us "$L_floor")" "$LT_FLOOR" '<= 1.2 x floor' "$(meets "$LT_FLOOR" '<=' 1.2)"
row 3 'open+read+close: floor data' "$(us "$O_floor")"
row 3 'open+read+close: mmapfs maps/N/pos' "$(us "$O_pos")" "floor $(us "$O_floor")" "$(ratio "$O_pos" "$O_floor")" '(none)'
row 4 'map + close pairs, one ctl file' "$CTL_RATE /s" '' '' '>= 5000 /s' "$(meets "$CTL_RATE" '>=' 5000)"
row 5 'stat maps/N @10 / 1000 / 50000' "$(trio "$ST_10" "$ST_1000" "$ST_50000")" '' "$ST_RATIO" '@50000 <= 1.5 x @10' "$(meets "$ST_RATIO" '<=' 1.5)"
row 5 'open+read+close maps/N/size @10/1000/50000' "$(trio "$SZ_10" "$SZ_1000" "$SZ_50000")" '' "$SZ_RATIO" '@50000 <= 1.5 x @10' "$(meets "$SZ_RATIO" '<=' 1.5)"
row 5 'list maps/, per entry @10 / 1000 / 50000' "$(trio "$LS_10" "$LS_1000" "$LS_50000")" '' "$LS_RATIO" '@50000 vs @1000 (info)'
row 6 'server RSS per idle mapping @50000' "$PER_MAP B" "kernel ~$KERNEL_PER_MAP B" '' '<= 1024 B' "$(meets "$PER_MAP" '<=' 1024)"
row 6 '  RSS kept after the lookups and listings' "+$LISTED_PER_MAP B" '' '' '(info)'
echo
echo "notes: load average at start $LOAD; $CACHES; fs.pipe-max-size $PIPE_MAX${PIPE_MAX_SAVED:+ (raised from $PIPE_MAX_SAVED for this run)}."
echo "       mmapfs -o passthrough: passthrough $PT_STATE."
echo "       scale and memory maps: '${MAPCMD}'; RSS = VmRSS growth minus RssShmem growth from 0 to 50000 idle maps;"
echo "       kernel = Slab + VmPTE growth over the same (system-wide, approximate)."
[ -z "$MAPNOTE" ] || echo "       $MAPNOTE."
echo "       $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r), libfuse $(pkg-config --modversion fuse3 2>/dev/null || echo '?')."
