"""Which requests a compiled policy applies to. Pure, no I/O.

A policy applies to a request when the submitted kind is one of
``match.kinds``, a ``ContainerPolicy`` sees its own namespace, the namespace
matches ``match.namespaces`` and ``match.namespaceSelector``, the object's
labels match ``match.objectSelector`` and no live exclusion entry without
finding selectors (``checks``, ``images``, ``containers``) covers the request.
A cluster-scoped object (no namespace) never matches a namespaces list or a
namespace selector.
"""

from __future__ import annotations

import datetime

from webhook.policy import exclusions, model


def applies(
    compiled: model.CompiledPolicy, subject: model.Subject, *, now: datetime.datetime
) -> bool:
    """Whether ``compiled`` judges the request described by ``subject`` at ``now``."""
    match = compiled.match
    if match.kinds is not None and subject.kind not in match.kinds:
        return False
    namespace = subject.namespace
    if compiled.namespace is not None and namespace != compiled.namespace:
        return False
    if match.namespaces is not None and (
        namespace is None or not match.namespaces.matches(namespace)
    ):
        return False
    if match.namespace_selector is not None and (
        namespace is None or not match.namespace_selector.matches(subject.namespace_labels)
    ):
        return False
    if match.object_selector is not None and not match.object_selector.matches(
        subject.object_labels
    ):
        return False
    if not compiled.exclusions:
        return True
    return not any(
        entry.whole_request and exclusions.covers_request(entry, subject, now=now)
        for entry in compiled.exclusions
    )
