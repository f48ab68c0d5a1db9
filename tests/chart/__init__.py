"""Tests of the Helm chart, the manifests rendered from it, the Dockerfile, and their judges."""
