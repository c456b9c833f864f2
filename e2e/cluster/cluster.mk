# Local Kubernetes cluster for e2e tests: etcd + kube-apiserver + kube-controller-manager
# and a real node (kube-scheduler, containerd, CNI bridge, kube-proxy, kubelet, CoreDNS).
# WEFT_NODE=0 make cluster-up gives the kubelet-less control plane instead. Included by the
# top-level Makefile:
#   include e2e/cluster/cluster.mk
# Honours WEFT_CACHE (default ~/.cache/weft) and WEFT_CLUSTER_DIR.

WEFT_CLUSTER_MK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
# With a node unless the caller says WEFT_NODE=0 (set per recipe, not exported to others).
WEFT_CLUSTER_NODE = WEFT_NODE=$${WEFT_NODE:-1}

.PHONY: k8s-tools cluster-up cluster-down cluster-purge

## k8s-tools: build/cache the Kubernetes binaries, helm and the node runtime
k8s-tools:
	@$(WEFT_CLUSTER_MK_DIR)/../../scripts/install-k8s.sh
	@$(WEFT_CLUSTER_MK_DIR)/../../scripts/install-node.sh

## cluster-up: start the cluster with its node (idempotent); prints the kubeconfig path
cluster-up:
	@$(WEFT_CLUSTER_NODE) $(WEFT_CLUSTER_MK_DIR)/up.sh

## cluster-down: stop it and leave the host as it was; keep its state (etcd, certs)
cluster-down:
	@$(WEFT_CLUSTER_NODE) $(WEFT_CLUSTER_MK_DIR)/down.sh

## cluster-purge: stop it and delete its state
cluster-purge:
	@$(WEFT_CLUSTER_NODE) $(WEFT_CLUSTER_MK_DIR)/down.sh --purge
