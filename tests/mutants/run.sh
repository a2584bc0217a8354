#!/bin/sh
# tests/mutants/run.sh [--quick] [MUTANT.patch ...] - mutation testing.
#
# Each tests/mutants/*.patch is a one-line change of src/ that breaks one
# behaviour; its '# ' header says which, and which test should catch it.
# For each mutant this script applies it to a scratch copy of the tree,
# builds, runs `make check`, and reverts. A mutant is
#   killed    make check failed: some test caught the change
#   survived  make check passed: no test checks that behaviour (a gap)
#   stale     the patch no longer applies: rewrite it for today's code
#   broken    the mutant does not compile: make it a behaviour change
# Only "killed" is good; the script exits 1 if any mutant was not killed.
#
# --quick runs only the test programs a mutant names on a '# tests:' line
# (all of make check when it names none): fast while writing a mutant;
# the full run is what counts. `make mutate` runs them all
# (MUTANTS='tests/mutants/x.patch ...' to pick some).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
quick=no
if [ "${1:-}" = --quick ]; then
	quick=yes
	shift
fi
if [ $# -eq 0 ]; then
	set -- "$top"/tests/mutants/*.patch
fi
jobs=$(nproc 2>/dev/null || echo 2)
work=$(mktemp -d "${TMPDIR:-/tmp}/mmapfs-mutants.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

echo "mutants: building a scratch copy in $work"
git -C "$top" ls-files -z --cached --others --exclude-standard |
	(cd "$top" && tar --null -T - -cf -) | tar -xf - -C "$work"
cd "$work"
(autoreconf -fi >/dev/null 2>&1 || autoreconf -fi) && ./configure -q >/dev/null
make -j"$jobs" >build.log 2>&1 || { cat build.log; echo "mutants: the unmutated tree does not build"; exit 2; }
if ! make -j"$jobs" check >check.log 2>&1; then
	grep -E "^(FAIL|ERROR):" check.log | head
	echo "mutants: make check fails without any mutant: fix that first"
	exit 2
fi

killed=0 others=0
table=$work/table
: >"$table"
for patch in "$@"; do
	name=$(basename "$patch" .patch)
	case $patch in /*) ;; *) patch=$top/$patch ;; esac
	if ! patch -p1 -s --dry-run <"$patch" >/dev/null 2>&1; then
		printf '%-9s %s\n' stale "$name" >>"$table"
		others=$((others + 1))
		continue
	fi
	patch -p1 -s <"$patch"
	if ! make -j"$jobs" >mutant-build.log 2>&1; then
		status=broken
		detail="does not compile"
	else
		tests=""
		[ $quick = yes ] && tests=$(sed -n 's/^# tests: *//p' "$patch" | head -1)
		if [ -n "$tests" ]; then
			# Build only the programs it runs (and the signal tests' shim).
			make -j"$jobs" check TESTS="$tests" \
				check_PROGRAMS="$(printf '%s\n' $tests | grep -v '\.py$' | paste -sd' ') tests/it/slowwait.so" \
				>mutant-check.log 2>&1 && status=survived || status=killed
		else
			make -j"$jobs" check >mutant-check.log 2>&1 && status=survived || status=killed
		fi
		detail=$(grep -hE "^(FAIL|ERROR):" mutant-check.log | grep -v " - exited with" | sed 's/^[A-Z]*: //; s/ *(.*//' |
			head -2 | paste -sd';' -)
	fi
	patch -p1 -R -s <"$patch"
	printf '%-9s %s  %s\n' "$status" "$name" "$detail" >>"$table"
	if [ $status = killed ]; then
		killed=$((killed + 1))
	else
		others=$((others + 1))
	fi
	tail -1 "$table"
done
echo
echo "mutants: $killed killed, $others not killed (of $#)"
sort "$table"
[ $others -eq 0 ]
