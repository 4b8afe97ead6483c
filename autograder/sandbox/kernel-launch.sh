#!/bin/sh
# Start one student's kernel in the bubblewrap sandbox built by autograder/sandbox/__init__.py.
#   usage: kernel-launch.sh CONNECTION_FILE COMMAND...
# COMMAND (prlimit ... bwrap ... setpriv ... python -m ipykernel_launcher) reads the
# connection file on fd 3. The grader starts this script under a parent-death signal
# (TERM), so it learns when the grader's worker dies; it then kills the sandbox itself and
# exits. It does not leave that to bwrap's --die-with-parent alone: a worker killed while
# bwrap was starting, before bwrap had asked for its own parent-death signal, would leave
# a kernel behind.
#   SANDBOX_SOCKETS  the kernel's socket folder, made fresh for each kernel and removed
#                    when the kernel ends (anything the kernel left there goes with it)
#   SANDBOX_UID      the unprivileged user the kernel runs as
#   SANDBOX_WORKER_PID  the grader's worker, this script's parent
set -eu
connection_file="$1"
shift
sockets="$SANDBOX_SOCKETS"
child=""

# SIGKILL to the sandbox's first process inside (the pid namespace's init: every process
# in the namespace dies with it), then to bwrap. bwrap is stopped first, so that a child it
# is creating at that moment (which asks for its own parent-death signal only once it runs)
# is in the list of its children when we read it.
stop_sandbox() {
    if [ -n "$child" ]; then
        kill -STOP "$child" 2>/dev/null || true
        for inner in $(cat "/proc/$child/task/$child/children" 2>/dev/null); do
            kill -KILL "$inner" 2>/dev/null || true
        done
        kill -KILL "$child" 2>/dev/null || true
    fi
}

rm -rf "$sockets"
mkdir -m 0700 "$sockets"
chown "$SANDBOX_UID:$SANDBOX_UID" "$sockets"
trap 'rm -rf "$sockets"' EXIT
trap 'stop_sandbox; exit 143' TERM
trap 'stop_sandbox; exit 130' INT HUP
# A worker that died before the parent-death signal was set sends none: look once.
[ "$(cut -d ' ' -f 4 /proc/$$/stat)" = "$SANDBOX_WORKER_PID" ] || exit 143

status=0
"$@" 3< "$connection_file" &
child=$!
wait "$child" || status=$?
exit "$status"
