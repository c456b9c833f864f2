# Local Kubernetes control plane for e2e tests (etcd + kube-apiserver +
# kube-controller-manager, no kubelet). Included by the top-level Makefile:
#   include e2e/cluster/cluster.mk
# Honours WEFT_CACHE (default ~/.cache/weft) and WEFT_CLUSTER_DIR.

WEFT_CLUSTER_MK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: k8s-tools cluster-up cluster-down cluster-purge

## k8s-tools: build/cache kube-apiserver, kube-controller-manager, kubectl, etcd, helm
k8s-tools:
	@$(WEFT_CLUSTER_MK_DIR)/../../scripts/install-k8s.sh

## cluster-up: start the e2e control plane (idempotent); prints the kubeconfig path
cluster-up:
	@$(WEFT_CLUSTER_MK_DIR)/up.sh

## cluster-down: stop the e2e control plane, keep its state
cluster-down:
	@$(WEFT_CLUSTER_MK_DIR)/down.sh

## cluster-purge: stop the e2e control plane and delete its state
cluster-purge:
	@$(WEFT_CLUSTER_MK_DIR)/down.sh --purge
