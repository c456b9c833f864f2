# kind path, for users who have Docker. CI has no Docker engine and runs the local
# harness (e2e/cluster) instead; these targets are not exercised by CI. It installs the same
# chart with the same image names as `make demo-cluster` does on the local node; after
# `make kind-up`, `kubectl apply -k examples/shop` deploys the same shop.
KIND ?= kind
KIND_CLUSTER ?= weft

.PHONY: kind-up kind-down kind-e2e kind-image

kind-up: ## create a kind cluster and install Weft with helm (the chart's default images, built by `make images`)
	$(KIND) get clusters | grep -qx $(KIND_CLUSTER) || $(KIND) create cluster --name $(KIND_CLUSTER) --wait 120s
	$(MAKE) kind-image
	helm upgrade --install weft charts/weft --namespace weft-system --create-namespace \
	  --kube-context kind-$(KIND_CLUSTER) --wait

kind-image: images ## build the images with Docker and load them into the kind nodes
	$(KIND) load docker-image --name $(KIND_CLUSTER) \
	  $(foreach n,$(IMAGE_NAMES),$(shell $(IMAGES_NODE) scripts/images/dockerfile.ts --ref $(n)))

kind-e2e: kind-up ## run the e2e suites against the kind cluster instead of the local harness
	$(KIND) export kubeconfig --name $(KIND_CLUSTER) --kubeconfig $(CURDIR)/.kind-kubeconfig
	WEFT_E2E_KUBECONFIG=$(CURDIR)/.kind-kubeconfig PATH="$(CURDIR)/node_modules/.bin:$$PATH" vitest run e2e

kind-down:
	$(KIND) delete cluster --name $(KIND_CLUSTER)
