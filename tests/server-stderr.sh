#!/bin/sh
# server-stderr.sh - run the mmapfs server with its stderr kept in a file.
#
# Used as MMAPFS_BIN by sanitizer builds (tests/reliability.am): Criterion
# drops a test's stderr when it prints TAP on stdout, and the server's with
# it, so the sanitizers' reports on the server would be lost. exec keeps the
# pid, so the harness's signals and waits still reach the server itself.
dir=${MMAPFS_SERVER_LOGS:?}
mkdir -p "$dir"
exec "${MMAPFS_SERVER_BIN:?}" "$@" 2>"$dir/server.$$"
