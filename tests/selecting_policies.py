"""Two Deny policies that select namespaces, shared by the offline and the apiserver tests.

``by_name(namespace)`` selects on ``kubernetes.io/metadata.name`` (a label
every namespace has); ``BY_ENV`` on ``env: prod`` (a label only known when
someone supplies it).
"""

from __future__ import annotations

from typing import Final

_BY_NAME: Final = """\
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {name: by-name}
spec:
  action: Deny
  rules: {privileged: false}
  match:
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: %s}}
"""
BY_ENV: Final = """\
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {name: by-env}
spec:
  action: Deny
  rules: {hostNamespaces: false}
  match:
    namespaceSelector: {matchLabels: {env: prod}}
"""


def by_name(namespace: str) -> str:
    return _BY_NAME % namespace
