"""A read-only view of one submitted object that carries no pod spec. Pure, no I/O.

Rules that judge a Service, an Ingress or an RBAC object (``registry.ObjectRule``)
get the whole object with its kind, and read its fields through ``mapping``,
``objects`` and ``strings``, which give each value its exact field path
(``spec.tls[0].hosts[1]``) and refuse a value of the wrong JSON type with
``ObjectError`` naming that path, so a broken object is never judged and never
allowed. The apiserver decodes objects into typed structs before a webhook sees
them; these checks matter for ``bulkhead check`` input and hand-posted reviews.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

from webhook.rules import findings, podview

_EMPTY: Final[Mapping[str, Any]] = {}


class ObjectError(podview.PodSpecError):
    """A field of the object cannot be read: ``path`` names it, ``reason`` says why.

    A kind of ``podview.PodSpecError``, so every caller that refuses an
    unreadable pod spec refuses an unreadable Service or Role the same way.
    """


class ObjectView(NamedTuple):
    """One submitted object of ``kind`` (``Service``, ``ClusterRole``), immutable."""

    kind: str
    obj: Mapping[str, Any]

    @property
    def name(self) -> str:
        name = self.metadata.get("name")
        return name if isinstance(name, str) else ""

    @property
    def metadata(self) -> Mapping[str, Any]:
        return mapping(self.obj.get("metadata"), "metadata")

    @property
    def annotations(self) -> Mapping[str, Any]:
        return mapping(self.metadata.get("annotations"), "metadata.annotations")

    @property
    def spec(self) -> Mapping[str, Any]:
        return mapping(self.obj.get("spec"), "spec")

    @property
    def label(self) -> str:
        """How messages name the object: ``Service "web"``."""
        return f'{self.kind} "{self.name}"'

    def finding(self, check: str, path: str, *, message: str, fix: str) -> findings.Finding:
        """A finding at field ``path`` of the object (it names no container)."""
        return findings.Finding(check, path, message, fix)


def mapping(value: object, path: str) -> Mapping[str, Any]:
    """``value`` as an object (empty when unset); ``ObjectError`` at ``path`` otherwise."""
    if value is None:
        return _EMPTY
    if not isinstance(value, Mapping):
        raise ObjectError(path, f"must be an object, not {type(value).__name__}")
    return value


def objects(value: object, path: str) -> Sequence[Mapping[str, Any]]:
    """``value`` as a list of objects (empty when unset); ``ObjectError`` naming the bad part."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ObjectError(path, f"must be a list, not {type(value).__name__}")
    for index, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            raise ObjectError(f"{path}[{index}]", "must be an object")
    return value


def strings(value: object, path: str) -> Sequence[str]:
    """``value`` as a list of strings (empty when unset); ``ObjectError`` naming the bad part."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ObjectError(path, f"must be a list, not {type(value).__name__}")
    for index, entry in enumerate(value):
        if not isinstance(entry, str):
            raise ObjectError(f"{path}[{index}]", f"must be a string, not {type(entry).__name__}")
    return value


def string(value: object, path: str) -> str | None:
    """``value`` as a string (``None`` when unset); ``ObjectError`` at ``path`` otherwise."""
    if value is None or isinstance(value, str):
        return value
    raise ObjectError(path, f"must be a string, not {type(value).__name__}")
