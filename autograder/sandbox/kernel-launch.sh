#!/bin/sh
# Start one student's kernel in the bubblewrap sandbox built by autograder/sandbox/__init__.py.
#   usage: kernel-launch.sh CONNECTION_FILE COMMAND...
# COMMAND (prlimit ... bwrap ... setpriv ... python -m ipykernel_launcher) reads the
# connection file on fd 3. The grader starts this script under a parent-death signal,
# so it dies with the grader's worker, and bwrap (--die-with-parent) dies with it.
#   SANDBOX_SOCKETS  the kernel's socket folder, made fresh for each kernel and removed
#                    when the kernel ends (anything the kernel left there goes with it)
#   SANDBOX_UID      the unprivileged user the kernel runs as
set -eu
connection_file="$1"
shift
sockets="$SANDBOX_SOCKETS"

rm -rf "$sockets"
mkdir -m 0700 "$sockets"
chown "$SANDBOX_UID:$SANDBOX_UID" "$sockets"
trap 'rm -rf "$sockets"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT HUP

status=0
"$@" 3< "$connection_file" || status=$?
exit "$status"
