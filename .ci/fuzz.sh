#!/bin/sh
# .ci/fuzz.sh - a bounded libFuzzer run of the command parser and command
# layer (tests/fuzz/fuzz_command), in a copy of the source configured with
# --enable-fuzzing CC=clang. Installs clang and its fuzzer runtime when
# missing. FUZZ_TIME (seconds, default 60) bounds the run.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
for p in clang libclang-rt-14-dev; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
		break
	fi
done
work=$(mktemp -d "${TMPDIR:-/tmp}/mmapfs-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The tracked and new files, not an in-tree build's products.
git -C "$src" ls-files -z --cached --others --exclude-standard |
	(cd "$src" && tar --null -T - -cf -) | tar -xf - -C "$work"
cd "$work"
autoreconf -fi >/dev/null 2>&1
./configure -q --enable-fuzzing CC=clang
make -j"$(nproc)" tests/fuzz/fuzz_command >build.out 2>&1 || {
	cat build.out >&2
	echo "fuzz: the fuzzer did not build" >&2
	exit 1
}
# No pipe: the run's own status decides (a fuzzer that fails to start, or
# stops on a crash, fails this script).
fstatus=0
make fuzz FUZZ_TIME="${FUZZ_TIME:-60}" >fuzz.out 2>&1 || fstatus=$?
tail -15 fuzz.out
if [ $fstatus -ne 0 ]; then
	echo "fuzz: make fuzz failed with exit status $fstatus" >&2
	exit 1
fi
if [ -n "$(ls tests/fuzz/findings 2>/dev/null)" ]; then
	echo "fuzz: findings in tests/fuzz/findings:" >&2
	ls -l tests/fuzz/findings >&2
	exit 1
fi
echo "fuzz: no findings"
