#!/bin/sh
# Start one grading worker's kernel zygote in the bubblewrap sandbox built by
# autograder/sandbox/__init__.py.
#   usage: kernel-launch.sh COMMAND...
# COMMAND (prlimit ... bwrap ... python zygote.py) talks to the worker on its stdin and
# stdout. The grader starts this script under a parent-death signal (TERM), so it learns
# when the grader's worker dies; it then kills the sandbox itself and exits. It does not
# leave that to bwrap's --die-with-parent alone: a worker killed while bwrap was starting,
# before bwrap had asked for its own parent-death signal, would leave a zygote behind.
#   SANDBOX_SOCKETS     the folder that holds the kernels' socket folders (each one made
#                       fresh for its kernel by the worker), made here and removed when the
#                       zygote ends (anything a kernel left there goes with it)
#   SANDBOX_WORKER_PID  the grader's worker, this script's parent
set -eu
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
mkdir -m 0755 "$sockets"
trap 'rm -rf "$sockets"' EXIT
trap 'stop_sandbox; exit 143' TERM
trap 'stop_sandbox; exit 130' INT HUP
# A worker that died before the parent-death signal was set sends none: look once.
[ "$(cut -d ' ' -f 4 /proc/$$/stat)" = "$SANDBOX_WORKER_PID" ] || exit 143

status=0
# an asynchronous command's stdin would be /dev/null: hand the worker's pipe over on fd 3
exec 3<&0
"$@" 0<&3 3<&- &
child=$!
exec 3<&-
wait "$child" || status=$?
exit "$status"
