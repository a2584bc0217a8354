#!/bin/sh
# .ci/check-skips.sh LOG - fail when a test in LOG (a test-suite.log) was
# skipped and its line is not on tests/ci-skips.txt. A skip under CI hides
# a test that did not run, so only the few this machine cannot avoid are
# accepted, each with its reason on that list.
set -eu
log=$1
list=$(dirname "$0")/../tests/ci-skips.txt
patterns=$(grep -v '^#' "$list" | grep -v '^$' || true)
skips=$(grep '^SKIP: ' "$log" || true)
[ -n "$skips" ] || exit 0
if [ -n "$patterns" ]; then
	bad=$(printf '%s\n' "$skips" | grep -Ev -e "$(printf '%s\n' "$patterns" | paste -sd'|')" || true)
else
	bad=$skips
fi
if [ -n "$bad" ]; then
	echo "ci: these tests were skipped, and tests/ci-skips.txt does not allow it:" >&2
	printf '%s\n' "$bad" >&2
	exit 1
fi
echo "ci: $(printf '%s\n' "$skips" | wc -l) skips, each on tests/ci-skips.txt:"
printf '%s\n' "$skips"
