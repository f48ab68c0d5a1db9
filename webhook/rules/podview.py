"""A normalised, read-only view of one pod spec. Pure, no I/O.

One walk over ``initContainers``, ``containers`` and ``ephemeralContainers``
gives every container with its exact field path, so checks never rebuild
paths or miss a container kind; ``finding`` on a container or the pod makes
a finding at one of its fields. Pod-level ``securityContext`` is kept apart
from the containers' own: Pod Security Admission judges each level on its
own (a bad value at either level denies) and lets only a few pod-level
values flow down to containers that leave the field unset.

``image_sources`` lists every field of the pod spec that makes the node pull
an image (``IMAGE_FIELDS``), so image checks never miss one.

Structurally broken specs (a container list that is not a list, a container
that is not an object) raise ``PodSpecError`` naming the field, so a caller
can refuse the object instead of judging half of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Final, Literal, NamedTuple

from webhook.rules import findings

ContainerKind = Literal["initContainers", "containers", "ephemeralContainers"]
CONTAINER_KINDS: Final[tuple[ContainerKind, ...]] = (
    "initContainers",
    "containers",
    "ephemeralContainers",
)

#: Every field of a pod spec that makes the node pull an image: the image of
#: each container of the three kinds, and the reference of each image volume
#: (``volumes[i].image``, on by default from Kubernetes 1.35), which the
#: kubelet pulls and mounts like a container image. Nothing else in a pod spec
#: names an image the node pulls (the sandbox image is node configuration).
IMAGE_FIELDS: Final = (
    "spec.initContainers[*].image",
    "spec.containers[*].image",
    "spec.ephemeralContainers[*].image",
    "spec.volumes[*].image.reference",
)

_EMPTY: Final[Mapping[str, Any]] = {}
_KIND_LABELS: Final[Mapping[ContainerKind, str]] = {
    "initContainers": "init container",
    "containers": "container",
    "ephemeralContainers": "ephemeral container",
}


class PodSpecError(ValueError):
    """The pod spec cannot be read: ``path`` names the field, ``reason`` says why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class Container(NamedTuple):
    """One container of any kind, with the path of its entry in the submitted object (immutable)."""

    kind: ContainerKind
    position: int
    name: str
    image: str
    path: str
    spec: Mapping[str, Any]
    security_context: Mapping[str, Any]

    def field(self, *parts: str) -> str:
        """The full path of a field below this container, e.g. ``securityContext.privileged``."""
        return ".".join((self.path, *parts))

    def finding(self, check: str, *parts: str, message: str, fix: str) -> findings.Finding:
        """A finding at field ``parts`` below this container (as ``field`` builds its path).

        It names the container and its image, for exclusions by either.
        """
        path = ".".join((self.path, *parts))  # as ``field``, inline: denials make many findings
        return findings.Finding(check, path, message, fix, self.name, self.image)

    def finding_at(self, check: str, path: str, *, message: str, fix: str) -> findings.Finding:
        """A finding at ``path`` (a full path ``field`` cannot build), naming this container."""
        return findings.Finding(check, path, message, fix, self.name, self.image)

    @property
    def label(self) -> str:
        """How messages name this container: ``init container "setup"``."""
        return f'{_KIND_LABELS[self.kind]} "{self.name}"'


class ImageSource(NamedTuple):
    """One image the node pulls for the pod: where it is written and what names it.

    ``label`` names the owner for messages (``container "app"``, ``image
    volume "models"``) and ``noun`` the field (``image``, ``reference``);
    ``container`` is the container's name (``None`` for an image volume);
    ``image`` is the reference as written (``""`` when missing or not a string).
    """

    path: str
    image: str
    label: str
    noun: str
    container: str | None

    def finding(self, check: str, *, message: str, fix: str) -> findings.Finding:
        """A finding at this image's field, naming the image (and container) for exclusions."""
        return findings.Finding(check, self.path, message, fix, self.container, self.image)


class PodView(NamedTuple):
    """The pod spec with its containers, paths and the facts several checks need (immutable)."""

    spec_path: str
    metadata_path: str
    spec: Mapping[str, Any]
    metadata: Mapping[str, Any]
    security_context: Mapping[str, Any]
    containers: tuple[Container, ...]
    windows: bool
    host_users_false: bool
    #: every ``securityContext`` key some container sets (lets a check skip a pod in one look)
    container_security_keys: AbstractSet[str] = frozenset()

    def field(self, *parts: str) -> str:
        """The full path of a pod-spec field: ``field("securityContext", "runAsUser")``."""
        return ".".join((self.spec_path, *parts))

    def finding(self, check: str, *parts: str, message: str, fix: str) -> findings.Finding:
        """A finding at pod-spec field ``parts`` (as ``field`` builds its path); no container."""
        return findings.Finding(check, ".".join((self.spec_path, *parts)), message, fix)

    def finding_at(self, check: str, path: str, *, message: str, fix: str) -> findings.Finding:
        """A pod-level finding at ``path``, e.g. an ``annotation_path``."""
        return findings.Finding(check, path, message, fix)

    def image_sources(self) -> list[ImageSource]:
        """Every image the node pulls for this pod, in ``IMAGE_FIELDS`` order.

        Raises ``PodSpecError`` when ``volumes`` or an image volume is not an object.
        """
        out = [
            ImageSource(f"{c.path}.image", c.image, c.label, "image", c.name)
            for c in self.containers
        ]
        volumes = self.spec.get("volumes")
        if not volumes:
            return out
        for index, volume in enumerate(objects(volumes, self, "volumes")):
            source = volume.get("image")
            if source is None:
                continue
            path = f"{self.spec_path}.volumes[{index}].image"
            if type(source) is not dict and not isinstance(source, Mapping):
                raise PodSpecError(path, f"must be an object, not {type(source).__name__}")
            reference = source.get("reference")
            name = volume.get("name")
            shown = name if type(name) is str else ""
            out.append(
                ImageSource(
                    f"{path}.reference",
                    reference if type(reference) is str else "",
                    f'image volume "{shown}"',
                    "reference",
                    None,
                )
            )
        return out

    def pod_security_field(self, key: str) -> str:
        """The full path of a pod-level ``securityContext`` field."""
        return f"{self.spec_path}.securityContext.{key}"

    @property
    def annotations(self) -> Mapping[str, Any]:
        value = self.metadata.get("annotations")
        return value if type(value) is dict or isinstance(value, Mapping) else _EMPTY

    def sets_security(self, key: str) -> bool:
        """Whether the pod or any container has ``securityContext.<key>`` present."""
        return key in self.container_security_keys or key in self.security_context

    def annotation_path(self, key: str) -> str:
        return f"{self.metadata_path}.annotations[{key}]"


def _mapping(value: object, path: str) -> Mapping[str, Any]:
    if type(value) is dict:
        return value
    if value is None:
        return _EMPTY
    if not isinstance(value, Mapping):
        raise PodSpecError(path, f"must be an object, not {type(value).__name__}")
    return value


def mapping(value: object, owner: Container | PodView, *parts: str) -> Mapping[str, Any]:
    """The object in field ``parts`` of ``owner`` (a container or the pod): empty when unset.

    Raises ``PodSpecError`` at ``owner.field(*parts)`` when the value is not an
    object, so a check never judges half of a broken field. The path is only
    built for the error: checks call this on every pod.
    """
    if type(value) is dict:
        return value
    if value is None:
        return _EMPTY
    if isinstance(value, Mapping):
        return value
    raise PodSpecError(owner.field(*parts), f"must be an object, not {type(value).__name__}")


def objects(value: object, owner: Container | PodView, *parts: str) -> Sequence[Mapping[str, Any]]:
    """The list of objects in field ``parts`` of ``owner`` (``volumes``, ``env``): empty when unset.

    Raises ``PodSpecError`` naming the list or the entry when the value is not a
    list of objects. Returns the list itself; nothing is copied, and the path is
    only built for the error.
    """
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PodSpecError(owner.field(*parts), "must be a list")
    for index, entry in enumerate(value):
        if type(entry) is not dict and not isinstance(entry, Mapping):
            raise PodSpecError(f"{owner.field(*parts)}[{index}]", "must be an object")
    return value


def read(
    spec: object,
    *,
    metadata: object = None,
    spec_path: str = "spec",
    metadata_path: str = "metadata",
) -> PodView:
    """Build the view of a pod spec found at ``spec_path`` in the submitted object."""
    pod_spec = spec if type(spec) is dict else _mapping(spec, spec_path)
    pod_sc = pod_spec.get("securityContext")
    if type(pod_sc) is not dict:
        pod_sc = _mapping(pod_sc, f"{spec_path}.securityContext")
    containers: list[Container] = []
    security_keys: set[str] = set()
    for kind in CONTAINER_KINDS:
        entries = pod_spec.get(kind)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise PodSpecError(f"{spec_path}.{kind}", "must be a list")
        for index, entry in enumerate(entries):
            if type(entry) is not dict and not isinstance(entry, Mapping):
                raise PodSpecError(f"{spec_path}.{kind}[{index}]", "must be an object")
            path = f"{spec_path}.{kind}[{index}]"
            name = entry.get("name")
            image = entry.get("image")
            sc = entry.get("securityContext")
            if type(sc) is not dict:
                sc = _mapping(sc, f"{path}.securityContext")
            if sc:
                security_keys.update(sc)
            containers.append(
                Container(
                    kind,
                    index,
                    name if type(name) is str else "",
                    image if type(image) is str else "",
                    path,
                    entry,
                    sc,
                )
            )
    os_spec = pod_spec.get("os")
    windows = type(os_spec) is dict and os_spec.get("name") == "windows"
    return PodView(
        spec_path,
        metadata_path,
        pod_spec,
        metadata if type(metadata) is dict else _mapping(metadata, metadata_path),
        pod_sc,
        tuple(containers),
        windows,
        pod_spec.get("hostUsers") is False,
        security_keys,
    )
