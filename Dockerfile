# syntax=docker/dockerfile:1
#
# The Bulkhead image: `bulkhead serve` (the admission webhook) and
# `bulkhead operator`, one image for both (the chart picks the command).
#
#   docker build -t bulkhead .
#   docker run --rm --read-only --user 65532:65532 bulkhead version
#
# Base: the official python:3.11.16-slim-bookworm image, pinned by the digest
# of its multi-platform index (amd64 and arm64), so a rebuild cannot pick up
# a different Python or Debian by surprise. Python 3.11 is what the project
# is developed and tested with (pyproject: requires-python >= 3.11). To move
# it, resolve the new tag's index digest (`docker buildx imagetools inspect
# python:3.11-slim-bookworm`) and change both stages at once through this ARG.
ARG PYTHON_IMAGE=python:3.11.16-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

# --- build: install the package and its dependencies into a virtualenv -------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY webhook ./webhook
# Byte-code is compiled here with hash-based invalidation, so it stays valid
# whatever the files' timestamps become and nothing is written at run time.
RUN python -m venv /opt/bulkhead \
 && /opt/bulkhead/bin/pip install --no-cache-dir --no-compile /src \
 && /opt/bulkhead/bin/pip uninstall --yes pip setuptools wheel \
 && python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/bulkhead/lib \
 && /opt/bulkhead/bin/bulkhead version

# --- runtime: the interpreter, the virtualenv and nothing else -----------------
FROM ${PYTHON_IMAGE}
# The base image's own pip, setuptools and wheel are not needed to run Bulkhead.
# The base ships the standard library without byte-code; compile it once here,
# since nothing can be written at run time (read-only root, no .pyc writes).
RUN python -m pip uninstall --yes --no-cache-dir pip setuptools wheel \
 && rm -rf /usr/local/lib/python3.11/ensurepip \
 && python -m compileall -q -j 0 --invalidation-mode unchecked-hash /usr/local/lib/python3.11
COPY --from=build /opt/bulkhead /opt/bulkhead
ENV PATH=/opt/bulkhead/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
LABEL org.opencontainers.image.title="bulkhead" \
      org.opencontainers.image.description="Kubernetes validating admission webhook and operator that keep insecure containers out of a cluster" \
      org.opencontainers.image.licenses="Apache-2.0"
# A numeric, non-root user with no home or shell entry: the code under
# /opt/bulkhead belongs to root and cannot be changed by the process. The only
# writable path it needs is /tmp (the server's private Unix socket directory),
# which the chart mounts as an emptyDir; the root filesystem can be read-only.
USER 65532:65532
WORKDIR /tmp
EXPOSE 8443
# Health is judged by the chart's Kubernetes probes (HTTPS /readyz and /healthz
# for serve, /healthz on 8081 for the operator); one Docker check cannot fit both.
HEALTHCHECK NONE
ENTRYPOINT ["bulkhead"]
CMD ["serve"]
