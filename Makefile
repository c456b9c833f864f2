# Weft: the two commands a newcomer needs are `make demo` and `make test`.
.PHONY: demo test setup bench lint typecheck kind-up kind-down kind-e2e

demo: ## set up everything and run the standalone demo (weft serve + real Envoy + two backends)
	bash scripts/setup.sh
	bash scripts/demo.sh

test: ## set up everything and run every test (unit, integration with real Envoy, e2e with a real API server)
	bash scripts/test.sh

setup:
	bash scripts/setup.sh --k8s

bench: setup
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" node bench/run.ts $(ARGS)

lint:
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" eslint .

typecheck:
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" tsc --noEmit -p .

-include e2e/cluster/cluster.mk
-include e2e/kind/kind.mk
-include crds/crds.mk
-include images/images.mk
