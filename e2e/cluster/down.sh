#!/usr/bin/env bash
# Stop the e2e cluster started by up.sh and leave nothing running; with a node, also
# leave the host as it was (node-down.sh: no mounts, cgroups, links or nft tables).
#   e2e/cluster/down.sh           stop processes, keep state (etcd data, certs)
#   e2e/cluster/down.sh --purge   stop and delete $WEFT_CLUSTER_DIR entirely
set -euo pipefail
# shellcheck source=e2e/cluster/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PURGE=0 LOCKED=0 HAVE_LOCK=1
for arg in "$@"; do
  case $arg in
    --purge) PURGE=1 ;;
    --locked) LOCKED=1 ;;   # internal: caller (up.sh) already holds the lock
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "down.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if [[ ! -d $CLUSTER_DIR ]]; then
  clog "nothing to stop ($CLUSTER_DIR does not exist)"
  exit 0
fi
if ((!LOCKED)); then
  exec 8>"$CLUSTER_DIR/.lock"
  # Time-boxed: stopping must not hang behind a stuck up.sh.
  if ! flock -w 120 8; then
    HAVE_LOCK=0
    clog "WARNING: $CLUSTER_DIR/.lock still held after 120s; stopping the recorded pids anyway"
  fi
fi

# stop NAME: SIGTERM the component's process group, wait, then SIGKILL.
stop() {
  local name=$1 pidf="$CLUSTER_DIR/$1.pid" pid i
  pid=$(component_pid "$name")
  if [[ -z $pid ]]; then return 0; fi
  if pid_alive "$pid"; then
    clog "stopping $name (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do   # up to 15s for a graceful exit
      [[ -z "$(group_pids "$pid")" ]] && ! pid_alive "$pid" && break
      sleep 0.1
    done
    if [[ -n "$(group_pids "$pid")" ]] || pid_alive "$pid"; then
      clog "$name did not exit after 15s; sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        [[ -z "$(group_pids "$pid")" ]] && ! pid_alive "$pid" && break
        sleep 0.1
      done
    fi
  fi
  rm -f "$pidf"
}

# shellcheck source=e2e/cluster/node-down.sh
. "$CLUSTER_SCRIPT_DIR/node-down.sh"
if [[ -f $NODE_DIR/cgroup || -n "$(component_pid node-ns)" ]]; then
  node_drain
  for ((i = ${#NODE_COMPONENTS[@]} - 1; i > 0; i--)); do stop_daemon "${NODE_COMPONENTS[i]}"; done
  node_cleanup
fi
stop kube-scheduler
for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop "${COMPONENTS[i]}"; done
rm -f "$CLUSTER_DIR/env"

# Verify: no component process may still reference the cluster directory
# (skipped without the lock: a concurrent up.sh may be starting new ones).
left=()
((HAVE_LOCK)) && procs=(/proc/[0-9]*/cmdline) || procs=()
for c in "${procs[@]}"; do
  p=${c#/proc/}; p=${p%/cmdline}
  [[ $p == "$$" ]] && continue
  pid_alive "$p" 2>/dev/null || continue
  # only our components (not e.g. a shell whose args mention the path)
  exe=$(readlink "/proc/$p/exe" 2>/dev/null || true)
  case ${exe##*/} in
    etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy|containerd|containerd-shim-runc-v2)
      left+=("$p") ;;
  esac
done
if ((${#left[@]})); then
  clog "WARNING: leftover cluster processes: ${left[*]}; killing them"
  kill -KILL "${left[@]}" 2>/dev/null || true
  sleep 0.5
fi

if ((PURGE)); then
  rm -rf "$CLUSTER_DIR"
  clog "stopped; removed $CLUSTER_DIR"
else
  clog "stopped (state kept in $CLUSTER_DIR; use --purge to delete it)"
fi
