#!/usr/bin/env bash
# Print what the local node could leave behind on the host, in a stable order, so two
# snapshots (before e2e/cluster/up.sh with WEFT_NODE=1, after down.sh) can be diffed:
# mounts, the node's cgroups, links, nft tables, the sysctls the node cares about and the
# well-known runtime directories it must never create on the host.
# The machine is shared with other work running at the same time (image builds with
# their own chroot mounts and cgroups, network namespaces of other tests), so each section
# keeps only what the node could have made (other tests' network namespaces under /run/netns
# are left out, CNI's cni-* are kept): overlay/nsfs/tmpfs/bind mounts of a runtime, the
# kubelet, CNI or the node's state dirs; cgroups named weft-node or kubepods; the bridge
# and veths; nft tables (all of them).
set -euo pipefail
CACHE=${WEFT_CACHE:-$HOME/.cache/weft}

echo "# mounts (mount point, fs type, source)"
awk '{ sep = 0; for (i = 7; i <= NF; i++) if ($i == "-") { sep = i; break }
       print $5, $(sep + 1), $(sep + 2) }' /proc/self/mountinfo |
  awk -v cache="$CACHE" '$2 == "overlay" || ($2 == "nsfs" && $1 !~ /^\/run\/netns\/[^c]/) || index($1, cache) == 1 ||
       $1 ~ /^\/(run|var\/run)(\/(containerd|runc|netns\/cni-.*))?$/ ||
       $1 ~ /^\/var\/(lib|log)(\/(kubelet|containerd|cni|pods|containers).*)?$/ ||
       $1 ~ /^\/proc\/sys\// || $1 ~ /kubelet|containerd|\/cni/' | sort

echo "# cgroups named weft-node or kubepods"
for d in /sys/fs/cgroup/*/; do
  [[ -d $d ]] || continue
  find "$d" -type d \( -name 'weft-node*' -o -name 'kubepods*' \) 2>/dev/null
done | sort

echo "# links"
ip -o link show | awk -F': ' '{ print $2 }' | cut -d@ -f1 | grep -E '^(weft|veth|cni)' | sort || true

echo "# routes to the pod and service ranges"
ip route show | grep -E '^10\.(244|96)\.' || true

echo "# nft tables"
nft list tables 2>/dev/null | sort

echo "# sysctls"
for f in vm/overcommit_memory kernel/panic kernel/panic_on_oops net/ipv4/ip_forward \
  net/netfilter/nf_conntrack_max net/netfilter/nf_conntrack_tcp_timeout_established \
  net/netfilter/nf_conntrack_tcp_timeout_close_wait net/bridge/bridge-nf-call-iptables; do
  [[ -r /proc/sys/$f ]] && echo "$f=$(cat "/proc/sys/$f")"
done

echo "# runtime directories"
for d in /run/containerd /run/runc /var/lib/kubelet /var/lib/containerd /var/lib/cni /etc/cni \
  /opt/cni /var/log/pods /var/log/containers /run/netns/cni-* /var/run/netns/cni-*; do
  [[ -e $d ]] && echo "$d"
done
echo "# end"
