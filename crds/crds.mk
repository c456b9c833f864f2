# CRDs and the Helm chart. crds/ is the one source of truth; charts/weft/crds/ holds copies
# because Helm installs CRDs only from the chart's own crds/ directory (and `helm package`
# needs real files). A test (e2e/chart/template.test.ts) fails when the copies drift.
# Included by the top-level Makefile:  -include crds/crds.mk

WEFT_CRDS_MK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
WEFT_CHART_DIR := $(WEFT_CRDS_MK_DIR)/../charts/weft

.PHONY: chart-crds chart-lint

## chart-crds: copy crds/*.yaml into charts/weft/crds/
chart-crds:
	@rm -f $(WEFT_CHART_DIR)/crds/*.yaml
	@cp $(WEFT_CRDS_MK_DIR)/*.yaml $(WEFT_CHART_DIR)/crds/
	@echo "charts/weft/crds synced from crds/"

## chart-lint: helm lint the chart, plain, --strict and in external mode
chart-lint: chart-crds
	@. "$$($(WEFT_CRDS_MK_DIR)/../scripts/install-k8s.sh >/dev/null; echo $${WEFT_CACHE:-$$HOME/.cache/weft})/k8s-tools.env" && \
	  "$$WEFT_HELM" lint $(WEFT_CHART_DIR) && "$$WEFT_HELM" lint --strict $(WEFT_CHART_DIR) && \
	  "$$WEFT_HELM" lint --strict $(WEFT_CHART_DIR) --set controlPlane.external.enabled=true \
	    --set controlPlane.external.webhookUrl=https://127.0.0.1:9443 --set controlPlane.external.caBundle=Cg==
