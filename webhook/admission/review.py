"""AdmissionReview ``admission.k8s.io/v1``: reading a request, writing a response. Pure, no I/O.

The wire formats are ``TypedDict``s; ``parse`` checks the shape of a decoded
review and returns a ``Request`` or raises ``ReviewError`` naming what is
wrong (the server answers 400). Responses always echo the request uid and
never carry a patch: Bulkhead only validates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple, NotRequired, TypedDict

from webhook.admission import shapes

API_VERSION: Final = "admission.k8s.io/v1"
KIND: Final = "AdmissionReview"
OPERATIONS: Final = frozenset({"CREATE", "UPDATE", "DELETE", "CONNECT"})


class StatusWire(TypedDict):
    code: int
    message: str
    reason: NotRequired[str]


class ResponseWire(TypedDict):
    uid: str
    allowed: bool
    status: NotRequired[StatusWire]
    warnings: NotRequired[list[str]]
    auditAnnotations: NotRequired[dict[str, str]]


class ReviewWire(TypedDict):
    apiVersion: str
    kind: str
    response: ResponseWire


class ReviewError(ValueError):
    """The body is not a usable AdmissionReview; the message says why."""


class Request(NamedTuple):
    """What Bulkhead needs from an AdmissionReview request (immutable; built per review).

    A named tuple, as ``podview.PodView``: built for every review, where a
    frozen dataclass's setting of each field costs a microsecond more.
    """

    uid: str
    kind: str
    group: str
    resource: str
    subresource: str
    operation: str
    namespace: str | None
    name: str
    username: str
    groups: tuple[str, ...]
    object: Mapping[str, Any] | None
    old_object: Mapping[str, Any] | None
    dry_run: bool

    @property
    def label(self) -> str:
        """``Deployment "ns/web"`` for messages and logs."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f'{self.kind} "{where}"'


def _str(node: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = node.get(key)
    if value is None:
        if required:
            raise ReviewError(f"{where}.{key} is required")
        return ""
    if not isinstance(value, str):
        raise ReviewError(f"{where}.{key} must be a string")
    return value


def _object(node: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = node.get(key)
    if value is None:
        return None
    if not shapes.is_object(value):
        raise ReviewError(f"request.{key} must be an object")
    return value


def uid_of(body: object) -> str:
    """The request uid if the body has a readable one, else ``""`` (for error replies)."""
    if isinstance(body, Mapping):
        request = body.get("request")
        if isinstance(request, Mapping):
            uid = request.get("uid")
            if isinstance(uid, str):
                return uid
    return ""


def parse(body: object) -> Request:
    """Check a decoded AdmissionReview and return its request."""
    if not shapes.is_object(body):
        raise ReviewError("the body must be a JSON object")
    if body.get("apiVersion") != API_VERSION:
        raise ReviewError(f"apiVersion must be {API_VERSION}")
    if body.get("kind") != KIND:
        raise ReviewError(f"kind must be {KIND}")
    request = body.get("request")
    if not shapes.is_object(request):
        raise ReviewError("request is required and must be an object")
    uid = _str(request, "uid", "request", required=True)
    if not uid:
        raise ReviewError("request.uid must not be empty")
    kind_node = request.get("kind")
    if not shapes.is_object(kind_node):
        raise ReviewError("request.kind is required and must be an object")
    resource_node = request.get("resource")
    if resource_node is not None and not shapes.is_object(resource_node):
        raise ReviewError("request.resource must be an object")
    operation = _str(request, "operation", "request", required=True)
    if operation not in OPERATIONS:
        raise ReviewError(f"request.operation must be one of {', '.join(sorted(OPERATIONS))}")
    obj = _object(request, "object")
    if obj is None and operation in ("CREATE", "UPDATE"):
        raise ReviewError(f"request.object is required for {operation}")
    user = request.get("userInfo")
    if user is not None and not shapes.is_object(user):
        raise ReviewError("request.userInfo must be an object")
    user = user or {}
    groups = user.get("groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise ReviewError("request.userInfo.groups must be a list of strings")
    dry_run = request.get("dryRun", False)
    if not isinstance(dry_run, bool):
        raise ReviewError("request.dryRun must be a boolean")
    namespace = _str(request, "namespace", "request")
    return Request(
        uid=uid,
        kind=_str(kind_node, "kind", "request.kind", required=True),
        group=_str(kind_node, "group", "request.kind"),
        resource=_str(resource_node or {}, "resource", "request.resource"),
        subresource=_str(request, "subResource", "request"),
        operation=operation,
        namespace=namespace or None,
        name=_str(request, "name", "request") or _generated_name(obj),
        username=_str(user, "username", "request.userInfo"),
        groups=tuple(groups),
        object=obj,
        old_object=_object(request, "oldObject"),
        dry_run=dry_run,
    )


def _generated_name(obj: Mapping[str, Any] | None) -> str:
    metadata = obj.get("metadata") if obj else None
    if not isinstance(metadata, Mapping):
        return ""
    name = metadata.get("name") or metadata.get("generateName") or ""
    return name if isinstance(name, str) else ""


def response(
    uid: str,
    *,
    allowed: bool,
    code: int = 200,
    message: str = "",
    warnings: tuple[str, ...] = (),
    audit_annotations: Mapping[str, str] | None = None,
) -> ReviewWire:
    """An AdmissionReview response; a refusal carries its code and message."""
    body: ResponseWire = {"uid": uid, "allowed": allowed}
    if not allowed:
        body["status"] = {"code": code, "message": message, "reason": _REASONS.get(code, "")}
    elif message:
        body["status"] = {"code": code, "message": message}
    if warnings:
        body["warnings"] = list(warnings)
    if audit_annotations:
        body["auditAnnotations"] = dict(audit_annotations)
    return {"apiVersion": API_VERSION, "kind": KIND, "response": body}


_REASONS: Final = {400: "BadRequest", 403: "Forbidden", 500: "InternalError"}
