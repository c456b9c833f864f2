# Weft's images, one definition each (images/<name>/image.json), two builders:
#   make images        Docker/BuildKit: each definition rendered as a Dockerfile (never committed)
#   make images-local  no Docker: mmdebstrap rootfs + OCI tar in $(WEFT_CACHE)/images, imported
#                      into the local node's containerd when one runs (needs root)
# Both tag ghcr.io/weft-mesh/<name>:<package.json version>, what the chart's defaults name.
IMAGE_NAMES := $(notdir $(patsubst %/image.json,%,$(wildcard images/*/image.json)))
IMAGES_NODE ?= $(if $(wildcard node_modules/.bin/node),$(CURDIR)/node_modules/.bin/node,node)
DOCKER ?= docker

.PHONY: images images-local images-dockerfiles

images: ## build the images with Docker/BuildKit (not run in CI: it has no Docker engine)
	@test -d node_modules || npm ci --no-audit --no-fund
	@set -e; for n in $(IMAGE_NAMES); do \
	  ref=$$($(IMAGES_NODE) scripts/images/dockerfile.ts --ref $$n); \
	  echo "[images] docker build $$ref"; \
	  $(IMAGES_NODE) scripts/images/dockerfile.ts $$n | DOCKER_BUILDKIT=1 $(DOCKER) build -f - -t $$ref .; \
	  $(DOCKER) image inspect -f '{{.Size}}' $$ref | awk -v r=$$ref '{ printf "[images] %s: %.1f MiB\n", r, $$1 / 1048576 }'; \
	done

images-local: ## build the images without Docker (root; mmdebstrap) into ~/.cache/weft/images, import into a running local node
	bash scripts/setup.sh
	bash scripts/images/build.sh $(IMAGES_ARGS)

images-dockerfiles: ## print the Dockerfiles `make images` builds
	@for n in $(IMAGE_NAMES); do $(IMAGES_NODE) scripts/images/dockerfile.ts $$n; echo; done
