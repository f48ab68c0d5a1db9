# Bulkhead developer entry points. `make test` is what CI runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup lint test test-compiled unit bench clean image test-node generate

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

lint: setup
	$(VENV)/bin/ruff check setup.py webhook devcluster tests benchmarks tools charts/bulkhead/files
	$(VENV)/bin/ruff format --check setup.py webhook devcluster tests benchmarks tools charts/bulkhead/files
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest
	$(MAKE) test-compiled

# The unit and conformance tests again (those needing no cluster: about two
# minutes), against the core as the image has it: compiled by mypyc
# (tools/compiled_core.sh, cached by content).
# The compiled package goes first on the path and the checkout's sources after
# it, for the tests; -P and importlib mode keep the checkout's webhook/ from
# shadowing it, and tests/conftest.py refuses a run that imported the sources.
COMPILED_TESTS := tests/unit tests/conformance
test-compiled: setup
	core="$$(bash tools/compiled_core.sh)" && \
	BULKHEAD_CORE=compiled PYTHONPATH="$$core:$(CURDIR)" \
	$(PY) -P -m pytest -p no:cacheprovider --import-mode=importlib --no-cluster -q $(COMPILED_TESTS)

unit: setup
	$(PY) -m pytest tests/unit tests/conformance -q

# The image from Debian packages and the Dockerfile, as an OCI archive (cached
# by content under $${BULKHEAD_CACHE:-~/.cache/bulkhead}/image; prints its path).
# Needs root and the packages of tools/node/packages.sh.
image:
	bash tools/node/packages.sh
	bash tools/image/build.sh

# The node suite alone: the image under podman, a real one-node cluster,
# `helm install` of the chart (root). `make test` runs it too.
test-node: setup
	bash tools/node/packages.sh
	$(PY) -m pytest tests/node

# Everything generated from the code: the CRDs (manifests/crds), the chart's copies
# and install.yaml (needs helm: tools/kubetools.sh), the rules reference docs/rules.md
# and the pod spec's fast type check (webhook/admission/shapechecks.py).
generate: setup
	$(PY) -m webhook.operator.crdfiles manifests/crds
	$(PY) tools/rules_reference.py
	$(PY) tools/generate_shapes.py
	PATH="$$(bash tools/kubetools.sh):$$PATH" $(PY) tools/render_manifests.py

bench: setup
	$(PY) benchmarks/decision.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# The demo: etcd + kube-apiserver, the CRDs, `bulkhead operator` and `bulkhead serve`
# watching the example policies applied as objects; the example workloads applied
# with the real kubectl; left running until demo-stop (devcluster/README.md).
.PHONY: demo demo-stop demo-node
demo: setup
	$(PY) -m devcluster.demo start

demo-stop:
	@if [ -x $(PY) ]; then $(PY) -m devcluster.demo stop; \
	else echo "no $(VENV) here, so no demo was started from this checkout"; fi

# The same demo on a real one-node cluster (root), Bulkhead as users run it: the
# image by digest under containerd, `helm install` of the chart, then the demo's
# steps (devcluster/nodedemo.py). In the foreground; the node is taken down at the
# end, or kept up until Enter with DEMO_NODE_ARGS=--keep.
demo-node: setup
	$(PY) -m devcluster.nodedemo $(DEMO_NODE_ARGS)
