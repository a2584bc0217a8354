#!/bin/sh
# .ci/sanitizers.sh - the reliability checks that need their own builds:
#
#  1. a clean out-of-tree build with AddressSanitizer and
#     UndefinedBehaviorSanitizer (./configure --enable-sanitizers) and its
#     `make check`: every test, the mounting ones included, with the server
#     itself sanitized;
#  2. a plain build whose parser/command unit binary (the fuzzer's corpus
#     replay, tests/fuzz/fuzz_replay) runs under
#     valgrind --leak-check=full --error-exitcode=1.
#
# The source is copied (tracked files and new ones, not build products), so
# the build never depends on, nor disturbs, an in-tree build.
#
# Usage: .ci/sanitizers.sh [--keep]   (CC, MAKEFLAGS and TMPDIR are honoured;
# --keep leaves the build directory for a look afterwards)
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
keep=no
[ "${1:-}" = --keep ] && keep=yes
work=$(mktemp -d "${TMPDIR:-/tmp}/mmapfs-sanitizers.XXXXXX")
cleanup() {
	if [ $keep = yes ]; then
		echo "sanitizers: build left in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
jobs=$(nproc 2>/dev/null || echo 2)

echo "sanitizers: copying $src to $work/src"
mkdir "$work/src"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	# Tracked and untracked-but-not-ignored files; no binaries.
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		(cd "$src" && xargs -0 sh -c '
			for f; do
				[ -f "$f" ] || continue
				case $(head -c 4 "$f" | od -An -c | tr -d " ") in
				177ELF) continue ;;
				esac
				mkdir -p "$0/$(dirname "$f")" && cp -p "$f" "$0/$f"
			done' "$work/src")
elif [ ! -f "$src/config.status" ]; then
	cp -pR "$src/." "$work/src"
else
	echo "sanitizers: $src is configured in-tree and is no git checkout; run make distclean there" >&2
	exit 1
fi
(cd "$work/src" && autoreconf -fi >/dev/null 2>&1) || (cd "$work/src" && autoreconf -fi)

echo "sanitizers: 1. ASan + UBSan build, make check"
mkdir "$work/asan"
cd "$work/asan"
"$work/src/configure" --enable-sanitizers -q
make -j"$jobs" >/dev/null || { echo "sanitizers: the ASan build failed"; make >&2; exit 1; }
status=0
make -j"$jobs" check || status=$?
# The same skip rule as the main suite's (tests/ci-skips.txt).
if [ "${CI:-}" = true ]; then
	sh "$src/.ci/check-skips.sh" test-suite.log || status=1
fi
# Sanitizer reports (see tests/reliability.am): the servers' stderr and
# ASan's reports on the test programs in tests/sanitizer-logs/, UBSan's on
# the test programs in their .log files.
pattern="ERROR: [A-Za-z]*Sanitizer|runtime error:"
reports=$(grep -lE "$pattern" tests/sanitizer-logs/* tests/*/*.log 2>/dev/null || true)
if [ -n "$reports" ]; then
	status=1
	echo "sanitizers: $(echo "$reports" | wc -l) files hold sanitizer reports; the first ones:"
	for f in $(echo "$reports" | head -3); do
		echo "--- $f"
		grep -E -A14 "$pattern" "$f" | head -30
	done
	echo "sanitizers: every report, by kind and place:"
	# shellcheck disable=SC2086
	grep -hE "$pattern|^SUMMARY: " $reports | grep -v "^SUMMARY: UndefinedBehavior" |
		sed -e 's/==[0-9]*==//' -e 's/0x[0-9a-f]*//g' -e "s|$work/src/||" | sort | uniq -c | sort -rn
fi

# Under CI the check must run: install valgrind where it is missing.
if ! command -v valgrind >/dev/null 2>&1 && [ "${CI:-}" = true ] && [ "$(id -u)" -eq 0 ]; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
fi
echo "sanitizers: 2. valgrind on the parser/command unit binary"
if command -v valgrind >/dev/null 2>&1; then
	mkdir "$work/plain"
	cd "$work/plain"
	"$work/src/configure" -q CFLAGS="-g -O1"
	make -j"$jobs" tests/fuzz/fuzz_replay >/dev/null
	vstatus=0
	valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
		--log-file="$work/valgrind.log" \
		tests/fuzz/fuzz_replay "$work/src/tests/fuzz/corpus" >"$work/replay.tap" || vstatus=$?
	# Any non-zero exit fails: 99 is valgrind's own finding, anything else
	# is the replay failing (a "not ok" line) or not running at all.
	if [ -s "$work/valgrind.log" ] || [ $vstatus -ne 0 ]; then
		echo "sanitizers: valgrind run failed (exit $vstatus):"
		head -60 "$work/valgrind.log"
		grep "^not ok" "$work/replay.tap" | head -20
		status=1
	else
		echo "sanitizers: valgrind: clean ($(grep -c '^ok' "$work/replay.tap") inputs replayed)"
	fi
elif [ "${CI:-}" = true ]; then
	echo "sanitizers: valgrind is not installed and could not be installed (CI=true): failing"
	status=1
else
	echo "sanitizers: valgrind is not installed; skipped (CI=true would fail)"
fi
exit $status
