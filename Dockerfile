# syntax=docker/dockerfile:1
#
# The Bulkhead image: `bulkhead serve` (the admission webhook) and
# `bulkhead operator`, one image for both (the chart picks the command).
#
#   make image        # the base from Debian packages, then this file; OCI archive
#
# Base: Debian bookworm with Debian's python3 (3.11) and python3-venv, made
# from Debian packages by tools/image/build.sh (mmdebstrap, no registry) and
# passed in as BASE_IMAGE; the build stage's BUILD_BASE_IMAGE is the same with
# gcc and Python's headers. The runtime stage keeps that base, the virtualenv
# and nothing else.
ARG BASE_IMAGE=localhost/bulkhead-base:bookworm
ARG BUILD_BASE_IMAGE=localhost/bulkhead-build-base:bookworm

# --- build: install the package and its dependencies into a virtualenv -------
FROM ${BUILD_BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Dependencies first, from pyproject.toml alone (the readme it names is a
# stand-in here): this layer is reused until the dependencies change, so a
# change of code or docs does not download them again.
COPY pyproject.toml ./
RUN touch README.md \
 && python3 -m venv /opt/bulkhead \
 && /opt/bulkhead/bin/pip install --no-compile /src
COPY README.md setup.py ./
COPY webhook ./webhook
# Then the package itself, its pure core compiled to C by mypyc (setup.py:
# the decision runs about half the instructions). What the programs never
# import at run time goes:
# pip, setuptools and wheel, the kubernetes client's asyncio twin
# (kubernetes.aio, 68 MB; Bulkhead uses the synchronous client and kopf its
# own), bundled tests and type stubs. Byte-code is compiled with hash-based invalidation, so it stays valid
# whatever the files' timestamps become and nothing is written at run time.
RUN BULKHEAD_COMPILE_CORE=1 /opt/bulkhead/bin/pip install --no-compile --no-deps --force-reinstall /src \
 && /opt/bulkhead/bin/pip uninstall --yes pip setuptools wheel \
 && rm -rf /opt/bulkhead/lib/python3.11/site-packages/kubernetes/aio \
 && find /opt/bulkhead/lib -depth \( -name tests -o -name test -o -name '*.pyi' \) -prune -exec rm -rf {} + \
 && python3 -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/bulkhead/lib \
 && /opt/bulkhead/bin/bulkhead version \
 && /opt/bulkhead/bin/python -P -c 'import importlib, sys; sys.exit(not importlib.import_module("webhook.admission.decide").__file__.endswith(".so"))'

# --- runtime: the interpreter, the virtualenv and nothing else -----------------
FROM ${BASE_IMAGE}
COPY --from=build /opt/bulkhead /opt/bulkhead
ENV PATH=/opt/bulkhead/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
LABEL org.opencontainers.image.title="bulkhead" \
      org.opencontainers.image.description="Kubernetes validating admission webhook and operator that keep insecure containers out of a cluster" \
      org.opencontainers.image.licenses="Apache-2.0"
# A numeric, non-root user with no passwd entry: the code under /opt/bulkhead
# belongs to root and cannot be changed by the process. The only writable path
# it needs is /tmp (the server's private Unix socket directory), which the
# chart mounts as an emptyDir; the root filesystem can be read-only.
USER 65532:65532
WORKDIR /tmp
EXPOSE 8443
# Health is judged by the chart's Kubernetes probes; one Docker check cannot
# fit both commands.
HEALTHCHECK NONE
ENTRYPOINT ["bulkhead"]
CMD ["serve"]
