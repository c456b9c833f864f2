#!/usr/bin/env bash
# Print what the local node could leave behind on the host, in a stable order, so two
# snapshots (before e2e/cluster/up.sh with WEFT_NODE=1, after down.sh) can be diffed:
# mounts, the node's cgroups, links, nft tables, the sysctls the node cares about and the
# well-known runtime directories it must never create on the host.
# Other work on a shared machine may add its own network namespaces (/run/netns mounts):
# those are left out; everything else is compared whole.
set -euo pipefail

echo "# mounts (mount point, fs type, source)"
awk '{ sep = 0; for (i = 7; i <= NF; i++) if ($i == "-") { sep = i; break }
       print $5, $(sep + 1), $(sep + 2) }' /proc/self/mountinfo | grep -v '^/run/netns/' | sort

echo "# cgroups named weft or kubepods"
for d in /sys/fs/cgroup/*/; do
  [[ -d $d ]] || continue
  find "$d" -type d \( -name 'weft*' -o -name 'kubepods*' \) 2>/dev/null
done | sort

echo "# links"
ip -o link show | awk -F': ' '{ print $2 }' | cut -d@ -f1 | sort

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
