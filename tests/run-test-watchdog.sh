#!/bin/sh
# The watchdog of tests/run-test.sh: a test program that never ends, with a
# worker in a process group of its own (as Criterion's workers are), is
# killed with that worker after MMAPFS_TEST_LIMIT seconds; the TAP stream
# says so, and the run fails. (Criterion's --timeout does not stop a
# spinning test, so this is what bounds every test program.)
here=$(cd "$(dirname "$0")" && pwd)
d=$(mktemp -d "${TMPDIR:-/tmp}/watchdog.XXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT
cat >"$d/spinner" <<EOF
#!/bin/sh
setsid sh -c 'echo \$\$ >"$d/worker"; while :; do :; done' &
while :; do :; done
EOF
chmod +x "$d/spinner"
out=$(MMAPFS_TEST_LIMIT=2 TMPDIR=$d sh "$here/run-test.sh" "$d/spinner" 2>/dev/null)
rc=$?
echo "1..3"
case $out in
*"Bail out!"*"still running after 2 s"*) echo "ok 1 - the hang is reported in the TAP stream" ;;
*) echo "not ok 1 - no report of the hang in: $out" ;;
esac
if [ $rc -ne 0 ]; then
	echo "ok 2 - the run fails ($rc)"
else
	echo "not ok 2 - the run passed"
fi
worker=$(cat "$d/worker" 2>/dev/null)
# SIGKILL is sent, not waited for: give the worker a moment to be gone.
[ -n "$worker" ] && timeout 10 tail --pid="$worker" -f /dev/null
if [ -n "$worker" ] && ! kill -0 "$worker" 2>/dev/null; then
	echo "ok 3 - the worker in its own process group is gone"
else
	echo "not ok 3 - the worker ($worker) is still running"
	[ -n "$worker" ] && kill -KILL "$worker"
fi
