#!/bin/sh
# Start one student's kernel in its own mount, network, PID, IPC and UTS namespaces
# (the grader runs this under `unshare`), as an unprivileged user with resource limits.
# Settings come from SANDBOX_* variables set by autograder/sandbox/__init__.py.
set -eu
connection_file="$1"
cwd="$PWD"
show="$cwd:$SANDBOX_SHOW"
hold="$SANDBOX_HOLD"
mkdir -p "$hold"
mount --make-rprivate /
mount -t tmpfs -o size=16m,mode=0755 tmpfs "$hold"

# Keep what the kernel needs before hiding the rest.
i=0
for path in $(echo "$show" | tr ':' ' '); do
    i=$((i + 1)); mkdir -p "$hold/$i"; mount --bind "$path" "$hold/$i"
done
cp "$connection_file" "$hold/connection.json"
chown "$SANDBOX_UID:$SANDBOX_UID" "$hold/connection.json"
chmod 0400 "$hold/connection.json"

# Hide the masters, the grader's code, the gradebook, other students and /tmp.
for path in $(echo "$SANDBOX_HIDE" | tr ':' ' '); do
    if [ -d "$path" ]; then mount -t tmpfs -o size=1m,mode=0755 tmpfs "$path"; fi
done
mount -t tmpfs -o size="$SANDBOX_TMP_SIZE",mode=1777 tmpfs /tmp

# Put back only this submission's working folder and the kernel's socket folder.
i=0
for path in $(echo "$show" | tr ':' ' '); do
    i=$((i + 1)); mkdir -p "$path"; mount --bind "$hold/$i" "$path"
done
cd "$cwd"   # re-enter through the new mounts: no way back to what is hidden

export HOME=/tmp MPLCONFIGDIR=/tmp/matplotlib IPYTHONDIR=/tmp/ipython JUPYTER_RUNTIME_DIR=/tmp
# Limits first (set as root, inherited), then drop to the unprivileged user.
exec prlimit --as="$SANDBOX_MEMORY" --cpu="$SANDBOX_CPU" --nproc="$SANDBOX_NPROC" \
    --fsize="$SANDBOX_FSIZE" --nofile=512 --core=0 -- \
    setpriv --reuid="$SANDBOX_UID" --regid="$SANDBOX_UID" --clear-groups --no-new-privs \
    --inh-caps=-all --bounding-set=-all \
    "$SANDBOX_PYTHON" -m ipykernel_launcher -f "$hold/connection.json"
