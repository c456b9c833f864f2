# Weft: the two commands a newcomer needs are `make demo` and `make test`.
.PHONY: demo demo-cluster demo-cluster-down test setup bench lint format typecheck kind-up kind-down kind-e2e

demo: ## set up everything and run the standalone demo (weft serve + real Envoy + two backends)
	bash scripts/setup.sh
	bash scripts/demo.sh

demo-cluster: ## the same mesh as users run it: local cluster with a real node, Weft's images, helm install, the shop with a 90/10 split (DEMO_SECONDS=30)
	bash scripts/demo-cluster.sh

demo-cluster-down: ## stop the demo cluster (state kept; the host is left as it was)
	WEFT_NODE=1 bash e2e/cluster/down.sh

test: ## set up everything and run every test (unit, integration with real Envoy, e2e with a real API server)
	bash scripts/test.sh

setup:
	bash scripts/setup.sh --k8s

bench: setup
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" node bench/run.ts $(ARGS)

lint: ## eslint (including the import rule of docs/architecture.md) and the formatter's check
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" eslint .
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" prettier --check .

format:
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" prettier --write .

typecheck:
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" tsc --noEmit -p .

-include e2e/cluster/cluster.mk
-include e2e/kind/kind.mk
-include crds/crds.mk
-include images/images.mk
