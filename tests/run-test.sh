#!/bin/sh
# Run one Criterion test program so that it prints TAP on stdout.
# Integration tests (tests/it/*) need /dev/fuse: without it they are
# skipped, except in CI (CI=true), where a mount that cannot happen fails.
# Each program gets a private TMPDIR; whatever it left mounted or running
# there is cleaned up after it, so no test leaves a daemon or a mount behind.
prog=$1
shift
case $prog in
*it/*)
	if [ ! -c /dev/fuse ] || [ ! -r /dev/fuse ]; then
		if [ "${CI:-}" = true ]; then
			echo "Bail out! /dev/fuse is missing: integration tests cannot mount (CI=true)"
			exit 1
		fi
		echo "1..0 # SKIP /dev/fuse is missing: cannot mount"
		exit 0
	fi
	;;
esac
TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/mmapfs-test.XXXXXX") || exit 1
export TMPDIR
# Criterion's --timeout does not stop a test that spins (2.4.1: only a
# test's own .timeout does), so a watchdog bounds the whole program:
# past MMAPFS_TEST_LIMIT seconds (600) it kills the program and the
# workers it forked (each in a process group of its own), and says so in
# the TAP stream, which makes the program fail.
limit=${MMAPFS_TEST_LIMIT:-600}
"$prog" --tap=- --timeout 120 "$@" &
pid=$!
fifo=$TMPDIR/.watchdog
mkfifo "$fifo"
(
	sleep "$limit" &
	echo $! >"$fifo"
	wait $!
	if kill -0 "$pid" 2>/dev/null; then
		echo "Bail out! $prog was still running after $limit s (a hang): killed"
		pkill -KILL -P "$pid"
		kill -KILL "$pid"
	fi
) 2>/dev/null &
watchdog=$!
read -r sleeper <"$fifo"
wait "$pid"
rc=$?
kill "$sleeper" 2>/dev/null
wait "$watchdog"
# Leftovers can only come from a test that crashed past its own clean-up.
awk -v d="$TMPDIR/" 'index($2, d) == 1 {print $2}' /proc/mounts | while read -r m; do
	# /proc/mounts writes a space as \040 (a tab \011, a newline \012):
	# printf %b turns those octal escapes back into the path's bytes.
	m=$(printf '%b' "$m")
	echo "# cleaning up a mount left behind: $m"
	fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m"
done
pkill -KILL -f "mmapfs.*$TMPDIR/" 2>/dev/null
rm -rf "$TMPDIR"
exit $rc
