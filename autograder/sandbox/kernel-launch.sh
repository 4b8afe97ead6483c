#!/bin/sh
# Start one student's kernel in its own mount, network, PID, IPC and UTS namespaces
# (the grader runs this under `unshare`), as an unprivileged user with resource limits.
# Settings come from SANDBOX_* variables set by autograder/sandbox/__init__.py:
#   SANDBOX_HIDE  folders to cover with empty file systems (masters, grader, other work)
#   SANDBOX_READ  folders the kernel needs (the course's code, Python) even if they lie
#                 inside a hidden folder or /tmp
#   SANDBOX_SHOW  folders the kernel works in (its socket folder); the working folder of
#                 the submission ($PWD) is added here
set -eu
connection_file="$1"
cwd="$PWD"
show="$cwd:$SANDBOX_SHOW"
hold="$SANDBOX_HOLD"
each() { echo "$1" | tr ':' '\n' | grep -v '^$' || true; }
IFS='
'  # paths may contain spaces: split lists on newlines only

mkdir -p "$hold"
mount --make-rprivate /
mount -t tmpfs -o size=16m,mode=0755 tmpfs "$hold"

# 1. Keep a handle on everything the kernel needs before covering anything.
i=0
for path in $(each "$SANDBOX_READ:$show"); do
    i=$((i + 1)); mkdir -p "$hold/$i"; mount --bind "$path" "$hold/$i"
done
cp "$connection_file" "$hold/connection.json"
chown "$SANDBOX_UID:$SANDBOX_UID" "$hold/connection.json"
chmod 0400 "$hold/connection.json"

# 2. Cover /tmp and the hidden folders.
mount -t tmpfs -o size="$SANDBOX_TMP_SIZE",mode=1777 tmpfs /tmp
for path in $(each "$SANDBOX_HIDE"); do
    if [ -d "$path" ]; then mount -t tmpfs -o size=1m,mode=0755 tmpfs "$path"; fi
done

# 3. Put back what the kernel reads, then cover the hidden folders again inside it.
i=0
for path in $(each "$SANDBOX_READ"); do
    i=$((i + 1)); mkdir -p "$path"; mount --bind "$hold/$i" "$path"
done
for path in $(each "$SANDBOX_HIDE"); do
    if [ -d "$path" ]; then mount -t tmpfs -o size=1m,mode=0755 tmpfs "$path"; fi
done

# 4. Put back the submission's working folder and the socket folder, and nothing else.
for path in $(each "$show"); do
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
