"""The JSON types of every pod-spec field a check reads, enforced before judging. Pure, no I/O.

The API server decodes an object into typed Go structs before any webhook
sees it, so a real review never carries ``securityContext: "privileged"``,
``sysctls`` as a mapping, a ``capabilities`` list or ``privileged: "true"``.
``bulkhead check`` reads files nobody decoded, and anyone can post a review
to ``/validate``; checks written against the API types would then crash or,
worse, read a wrong-typed value as unset and pass it. ``validate`` refuses
such a spec up front with ``podview.PodSpecError`` naming the exact field,
so a broken object is never judged, never allowed and never a traceback.

The table follows ``k8s.io/api/core/v1`` for exactly the fields the rules
and the Pod Security profiles read (pod and container ``securityContext``
with their nested options, containers of all three kinds, host ports, env,
resources, where probes and lifecycle handlers point, volumes, host
namespaces, ``os``) and for the object's and the template's ``metadata``
(names, labels, annotations); a check that starts reading a new field adds
it here.
``null`` is "unset", as in the API; a list entry may not be ``null``.
Fields outside the table are not looked at (no check reads them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeGuard

from webhook.admission import shapechecks
from webhook.rules import config, podview


@dataclasses.dataclass(frozen=True, slots=True)
class Scalar:
    """A JSON scalar of one of ``types``; ``name`` is how errors say it."""

    name: str
    types: tuple[type, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class ListOf:
    item: Shape


@dataclasses.dataclass(frozen=True, slots=True)
class MapOf:
    """An object whose every value has shape ``value`` (labels, resource limits)."""

    value: Shape


@dataclasses.dataclass(frozen=True, slots=True)
class Object:
    """An object with these known fields; any other has shape ``rest`` (``None``: unchecked)."""

    fields: Mapping[str, Shape]
    rest: Shape | None = None


Shape = Scalar | ListOf | MapOf | Object

STRING: Final = Scalar("a string", (str,))
INTEGER: Final = Scalar("an integer", (int,))
BOOLEAN: Final = Scalar("a boolean", (bool,))
QUANTITY: Final = Scalar("a quantity (a string or a number)", (str, int, float))
INT_OR_STRING: Final = Scalar("a port number or name", (int, str))
ANY_OBJECT: Final = Object({})


def _object(rest: Shape | None = None, **fields: Shape) -> Object:
    return Object(fields, rest)


_SECCOMP: Final = _object(type=STRING, localhostProfile=STRING)
_SELINUX: Final = _object(type=STRING, user=STRING, role=STRING, level=STRING)
_WINDOWS: Final = _object(
    hostProcess=BOOLEAN, gmsaCredentialSpecName=STRING, gmsaCredentialSpec=STRING,
    runAsUserName=STRING,
)  # fmt: skip
_COMMON_SECURITY: Final[Mapping[str, Shape]] = {
    "runAsNonRoot": BOOLEAN,
    "runAsUser": INTEGER,
    "runAsGroup": INTEGER,
    "seccompProfile": _SECCOMP,
    "appArmorProfile": _SECCOMP,
    "seLinuxOptions": _SELINUX,
    "windowsOptions": _WINDOWS,
}
CONTAINER_SECURITY: Final = Object(
    {
        **_COMMON_SECURITY,
        "privileged": BOOLEAN,
        "allowPrivilegeEscalation": BOOLEAN,
        "readOnlyRootFilesystem": BOOLEAN,
        "procMount": STRING,
        "capabilities": _object(add=ListOf(STRING), drop=ListOf(STRING)),
    }
)
POD_SECURITY: Final = Object(
    {
        **_COMMON_SECURITY,
        "fsGroup": INTEGER,
        "supplementalGroups": ListOf(INTEGER),
        "fsGroupChangePolicy": STRING,
        "supplementalGroupsPolicy": STRING,
        "seLinuxChangePolicy": STRING,
        "sysctls": ListOf(_object(name=STRING, value=STRING)),
    }
)
#: Probes and lifecycle handlers: only where they point (Pod Security's host probe check).
_HANDLER: Final = _object(httpGet=_object(host=STRING), tcpSocket=_object(host=STRING))
_RESOURCES: Final = _object(limits=MapOf(QUANTITY), requests=MapOf(QUANTITY))
CONTAINER: Final = _object(
    name=STRING,
    image=STRING,
    ports=ListOf(_object(containerPort=INTEGER, hostPort=INTEGER, hostIP=STRING)),
    env=ListOf(_object(name=STRING, value=STRING, valueFrom=ANY_OBJECT)),
    resources=_RESOURCES,
    livenessProbe=_HANDLER,
    readinessProbe=_HANDLER,
    startupProbe=_HANDLER,
    lifecycle=_object(postStart=_HANDLER, preStop=_HANDLER),
    securityContext=CONTAINER_SECURITY,
)
#: A volume: its name, and every other field is a volume source object.
VOLUME: Final = _object(
    ANY_OBJECT,
    name=STRING,
    hostPath=_object(path=STRING, type=STRING),
    image=_object(reference=STRING),
)
POD_SPEC: Final = _object(
    volumes=ListOf(VOLUME),
    initContainers=ListOf(CONTAINER),
    containers=ListOf(CONTAINER),
    ephemeralContainers=ListOf(CONTAINER),
    securityContext=POD_SECURITY,
    hostNetwork=BOOLEAN,
    hostPID=BOOLEAN,
    hostIPC=BOOLEAN,
    hostUsers=BOOLEAN,
    automountServiceAccountToken=BOOLEAN,
    os=_object(name=STRING),
)
METADATA: Final = _object(
    name=STRING,
    generateName=STRING,
    namespace=STRING,
    labels=MapOf(STRING),
    annotations=MapOf(STRING),
)


class _MismatchError(Exception):
    """Raised at the bad value; each enclosing level prepends its key on the way out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.parts: list[str] = []


Checker = Callable[[object], None]
#: How one value is checked: types that pass at once (one set lookup, inline), else the checker.
Step = tuple[frozenset[type], Checker]


def is_object(value: object) -> TypeGuard[Mapping[str, Any]]:
    """Whether ``value`` is a JSON object (a decoded one is a ``dict``: no ABC look-up then)."""
    return type(value) is dict or isinstance(value, Mapping)


def _objects_only(value: object) -> None:
    if not is_object(value):
        raise _MismatchError(f"must be an object, not {config.type_name(value)}")


def _step(shape: Shape) -> Step:
    """The step for ``shape``, built once.

    Scalars (most of what a pod spec holds) and objects with nothing inside
    to check pass on their type alone; lists and objects with fields to
    check call their checker.
    """
    if isinstance(shape, Scalar):
        name = shape

        def mismatch(value: object) -> None:
            raise _MismatchError(f"must be {name.name}, not {config.type_name(value)}")

        return frozenset(shape.types), mismatch
    if isinstance(shape, ListOf):
        return frozenset(), _list_checker(_step(shape.item))
    if isinstance(shape, MapOf):
        return frozenset(), _object_checker({}, _step(shape.value))
    if not shape.fields and shape.rest is None:
        return frozenset((dict,)), _objects_only
    rest = None if shape.rest is None else _step(shape.rest)
    return frozenset(), _object_checker(
        {key: _step(field) for key, field in shape.fields.items()}, rest
    )


def _list_checker(item: Step) -> Checker:
    fast, check = item

    def sequence(value: object) -> None:
        if type(value) is not list:
            raise _MismatchError(f"must be a list, not {config.type_name(value)}")
        for index, entry in enumerate(value):
            if type(entry) in fast:
                continue
            try:
                if entry is None:
                    raise _MismatchError("must not be null")
                check(entry)
            except _MismatchError as err:
                err.parts.append(f"[{index}]")
                raise

    return sequence


def _object_checker(known: Mapping[str, Step], rest: Step | None) -> Checker:
    def mapping(value: object) -> None:
        if not is_object(value):
            raise _MismatchError(f"must be an object, not {config.type_name(value)}")
        for key, entry in value.items():
            step = known.get(key, rest)
            if step is None or entry is None or type(entry) in step[0]:
                continue
            try:
                step[1](entry)
            except _MismatchError as err:
                err.parts.append(f".{key}")
                raise

    return mapping


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """Both checks of one shape: ``fast`` (generated, yes or no) and ``walk`` (names the field).

    The closures of ``walk`` (``_step``) call one another once per object,
    list and map: for the 3.1 KB Pod of ``benchmarks/server.py`` about 47
    calls. ``fast`` does the same walk as straight-line code generated from
    the table (``shapechecks``, written by ``tools/generate_shapes.py``), and
    answers only yes or no; ``_validate`` asks ``walk`` for the field and
    reason when it says no. ``fast`` is stricter, never looser: an object
    must be a ``dict`` (not any mapping), so any value it accepts ``walk``
    accepts too (``tests/unit/admission/test_shapes.py`` compares the two on
    mutated specs).
    """

    fast: Callable[[object], bool]
    walk: Checker


POD_SPEC_CHECK: Final = Check(fast=shapechecks.pod_spec, walk=_step(POD_SPEC)[1])
METADATA_CHECK: Final = Check(fast=shapechecks.metadata, walk=_step(METADATA)[1])


def mismatch(value: object, walk: Checker, path: str) -> podview.PodSpecError | None:
    """The first field of ``value`` (found at ``path``) off shape, by the table's walk."""
    try:
        walk(value)
    except _MismatchError as err:
        return podview.PodSpecError(path + "".join(reversed(err.parts)), err.reason)
    return None


def _validate(value: object, check: Check, path: str) -> None:
    """Raise ``podview.PodSpecError`` at the first field of ``value`` (at ``path``) off shape."""
    if value is None or check.fast(value):
        return
    error = mismatch(value, check.walk, path)
    if error is not None:
        raise error


def metadata(value: object, path: str) -> None:
    """Validate an object's ``metadata`` found at ``path``."""
    _validate(value, METADATA_CHECK, path)


def pod_template(template: Mapping[str, Any], *, spec_path: str, metadata_path: str) -> None:
    """Validate a pod (template)'s ``metadata`` and ``spec``."""
    _validate(template.get("metadata"), METADATA_CHECK, metadata_path)
    _validate(template.get("spec"), POD_SPEC_CHECK, spec_path)
