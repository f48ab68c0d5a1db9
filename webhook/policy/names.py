"""The syntax of Kubernetes names and labels, written once. Pure, no I/O.

Each pattern is a regular expression source without anchors, so the CRD
schema can embed it in OpenAPI ``pattern`` fields and CEL rules, and the
compiler, the label selectors and the operator's settings check names with
the functions below, which add the anchors and the length limits:

- a DNS label (RFC 1123): at most 63 lower-case letters, digits or '-',
  starting and ending with a letter or digit (namespace and container names);
- a DNS subdomain: DNS labels joined by '.', at most 253 characters (label
  key prefixes, Service and host names);
- a label name: at most 63 letters, digits, '-', '_' or '.', starting and
  ending with a letter or digit (the name part of a label key; a label
  value is a label name or empty).
"""

from __future__ import annotations

import re
from typing import Final

DNS_LABEL: Final[str] = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
DNS_SUBDOMAIN: Final[str] = rf"{DNS_LABEL}(\.{DNS_LABEL})*"
LABEL_NAME: Final = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"

MAX_SUBDOMAIN: Final = 253

_DNS_LABEL: Final = re.compile(DNS_LABEL)
_DNS_SUBDOMAIN: Final = re.compile(DNS_SUBDOMAIN)
_LABEL_NAME: Final = re.compile(LABEL_NAME)


def is_dns_label(text: str) -> bool:
    """Whether ``text`` is a DNS label (``kube-system``)."""
    return _DNS_LABEL.fullmatch(text) is not None


def is_dns_subdomain(text: str) -> bool:
    """Whether ``text`` is a DNS subdomain (``bulkhead.dev``, ``webhook.bulkhead.svc``)."""
    return len(text) <= MAX_SUBDOMAIN and _DNS_SUBDOMAIN.fullmatch(text) is not None


def is_label_name(text: str) -> bool:
    """Whether ``text`` is a label name (``app.kubernetes.io/name`` without its prefix)."""
    return _LABEL_NAME.fullmatch(text) is not None
