# bench/lib.sh - what run.sh and experiments.sh share: a temporary work
# area, the 512 MiB backing file, starting servers and waiting for their
# mounts, timing dd, and a cleanup (trap) that unmounts every mount and stops
# every server they started, also on failure or Ctrl-C. Sourced, not run.
#
# The caller sets BUILD (the top build directory) and may set BENCH_RUNS
# (best of how many runs, default 7) and BENCH_SIZE_MB (default 512).

LC_ALL=C
export LC_ALL
RUNS=${BENCH_RUNS:-7}
SIZE_MB=${BENCH_SIZE_MB:-512}
MMAPFS=$BUILD/src/server/mmapfs
FLOOR=$BUILD/bench/floor
LAT=$BUILD/bench/lat

TMP=''		# mount points, fifos, logs, passthrough_ll
DATA=''		# the backing file's directory (tmpfs when it has room)
MOUNTS=''	# every mount point we mounted on
PIDS=''		# every server we started
PIPE_MAX_SAVED=''

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

bench_cleanup() {
	set +e
	trap - EXIT INT TERM HUP
	for m in $MOUNTS; do
		if grep -q " $m fuse" /proc/mounts; then
			fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m"
		fi
	done
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		alive=''
		for p in $PIDS; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
		[ -z "$alive" ] && break
		sleep 0.2
	done
	for p in $alive; do kill -KILL "$p" 2>/dev/null; done
	[ -n "$PIPE_MAX_SAVED" ] && echo "$PIPE_MAX_SAVED" >/proc/sys/fs/pipe-max-size
	# Remove our directories only once nothing is mounted below them.
	for d in "$TMP" "$DATA"; do
		[ -n "$d" ] && [ -d "$d" ] || continue
		if grep -q " $d/" /proc/mounts; then
			say "bench: still mounted below $d; left in place"
		else
			rm -rf --one-file-system "$d"
		fi
	done
}

bench_setup() {
	[ -x "$MMAPFS" ] && [ -x "$FLOOR" ] && [ -x "$LAT" ] ||
		die "build first: make bench (missing programs under $BUILD)"
	[ -c /dev/fuse ] || die "/dev/fuse is missing"
	command -v fusermount3 >/dev/null || die "fusermount3 is missing"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	TMP=$(mktemp -d /tmp/mmapfs-bench.XXXXXX)
	need_kb=$(( (SIZE_MB + 64) * 1024 ))
	if [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')" -ge "$need_kb" ] 2>/dev/null; then
		DATA=$(mktemp -d /dev/shm/mmapfs-bench.XXXXXX)
	else
		[ "$(df -Pk /tmp | awk 'NR == 2 { print $4 }')" -ge "$need_kb" ] ||
			die "need $SIZE_MB MiB free in /dev/shm or /tmp"
		DATA=$TMP/data
		mkdir "$DATA"
	fi
	FILE=$DATA/file
	dd if=/dev/urandom of="$FILE" bs=1M count="$SIZE_MB" status=none
}

# The kind of file system the backing file is on, for the report.
data_fs() { stat -f -c %T "$DATA"; }

# Drop the page, dentry and inode caches (root only), then read the backing
# file once so that every measurement starts from a warm page cache. On
# tmpfs the file's pages cannot be dropped; they stay warm either way.
drop_and_warm() {
	sync
	if [ -w /proc/sys/vm/drop_caches ]; then
		echo 3 >/proc/sys/vm/drop_caches
		CACHES="caches dropped (echo 3 > drop_caches), then the file read once: warm"
	else
		CACHES="caches not dropped (not root); the file read once: warm"
	fi
	dd if="$FILE" of=/dev/null bs=1M status=none
}

# libfuse splices a 1 MiB reply only through a pipe of more than 1 MiB, and
# an unprivileged pipe can grow only to fs.pipe-max-size (1 MiB by default):
# raise it to 2 MiB for this run where we may, so that the splice rows splice.
raise_pipe_max() {
	cur=$(cat /proc/sys/fs/pipe-max-size)
	if [ "$cur" -lt 2097152 ] && [ -w /proc/sys/fs/pipe-max-size ]; then
		PIPE_MAX_SAVED=$cur
		echo 2097152 >/proc/sys/fs/pipe-max-size
	fi
	PIPE_MAX=$(cat /proc/sys/fs/pipe-max-size)
}

# start_ready NAME MOUNTPOINT PROGRAM [ARGS...]: run PROGRAM -f -o ready_fd=9
# ARGS MOUNTPOINT in the background and wait for its "ready" line (mmapfs and
# the floor server write it once mounted). Sets PID_<NAME>.
start_ready() {
	name=$1 mnt=$2
	shift 2
	mkdir -p "$mnt"
	fifo=$TMP/$name.ready
	mkfifo "$fifo"
	MOUNTS="$MOUNTS $mnt"
	"$@" -f -o ready_fd=9 "$mnt" 9>"$fifo" 2>"$TMP/$name.log" &
	pid=$!
	PIDS="$PIDS $pid"
	line=$(timeout 30 head -n 1 "$fifo" || true)
	if [ "$line" != ready ]; then
		cat "$TMP/$name.log" >&2
		die "$name did not come up on $mnt"
	fi
	eval "PID_$name=$pid"
}

# Pids of processes running exactly this executable (ours, in $TMP).
pids_of_exe() {
	for d in /proc/[0-9]*; do
		[ "$(readlink "$d/exe" 2>/dev/null)" = "$1" ] && echo "${d#/proc/}"
	done
	return 0
}

# libfuse's example passthrough_ll, built from its documented source. Its
# daemon mode returns once mounted (libfuse's fuse_daemonize), so no polling.
# cache=never makes it open files with direct_io, as mmapfs's data is: every
# read goes to the server in requests of up to 1 MiB, none from a page cache.
start_passthrough_ll() {
	mnt=$1
	PTLL=''
	src=${PASSTHROUGH_LL_SRC:-/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c}
	if [ ! -f "$src" ]; then
		say "bench: $src not found (apt-get install libfuse3-dev): passthrough_ll skipped"
		return 0
	fi
	# shellcheck disable=SC2086 # the flags are lists
	${CC:-cc} -O2 ${FUSE_CFLAGS:-$(pkg-config --cflags fuse3)} -I"$(dirname "$src")" \
		-o "$TMP/passthrough_ll" "$src" ${FUSE_LIBS:-$(pkg-config --libs fuse3)} \
		2>"$TMP/passthrough_ll.build.log" || {
		cat "$TMP/passthrough_ll.build.log" >&2
		die "could not build $src"
	}
	mkdir -p "$mnt"
	MOUNTS="$MOUNTS $mnt"
	"$TMP/passthrough_ll" -o source="$DATA",cache=never "$mnt" 2>"$TMP/passthrough_ll.log" ||
		die "passthrough_ll did not start: $(cat "$TMP/passthrough_ll.log")"
	grep -q " $mnt fuse" /proc/mounts || die "passthrough_ll is not mounted on $mnt"
	PIDS="$PIDS $(pids_of_exe "$TMP/passthrough_ll")"
	PTLL=$mnt
}

# dd_rate ARGS...: one dd of SIZE_MB MiB in 1 MiB requests; prints GB/s.
dd_rate() {
	dd bs=1M count="$SIZE_MB" "$@" 2>&1 >/dev/null |
		awk -v bytes="$((SIZE_MB * 1048576))" '/copied/ { printf "%.3f\n", bytes / $(NF-3) / 1e9 }'
}

# Arithmetic on decimals.
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 > a + 0) ? b : a }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'; }
# meets VALUE OP LIMIT: "yes" or "NO"
meets() { awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { ok = op == ">=" ? v + 0 >= l + 0 : v + 0 <= l + 0; print (v == "-" || v == "") ? "n/a" : ok ? "yes" : "NO" }'; }
us() { awk -v ns="$1" 'BEGIN { printf "%.1f us", ns / 1000 }'; }

# status_kb PID FIELD: a field of /proc/PID/status, in kB
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
meminfo_kb() { awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo; }
