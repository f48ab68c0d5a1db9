"""Finding every pod spec in a submitted object, with its field-path prefix. Pure, no I/O.

* Pod: ``spec``
* Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, ReplicationController:
  ``spec.template.spec``
* CronJob: ``spec.jobTemplate.spec.template.spec``
* PodTemplate: ``template.spec``

A controller with no template carries no pod spec and yields nothing. The
kinds the object rules judge (``rules.OBJECT_KINDS``: Service, Ingress, Role,
ClusterRole and their bindings) and NetworkPolicy (for ``networkPolicy``,
which judges taking a default deny away) are judged whole, as an
``ObjectView``; any other kind is not judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from webhook import policy, profiles, rules
from webhook.admission import shapes
from webhook.rules import objectview, podview

#: kind -> the path (as keys) from the object to its pod template (empty for a Pod itself).
TEMPLATE_PATHS: Final[Mapping[str, tuple[str, ...]]] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "PodTemplate": ("template",),
}
#: The kinds that carry a pod spec.
POD_KINDS: Final = tuple(TEMPLATE_PATHS)
#: The kinds judged whole: those of the object rules, and NetworkPolicy.
WHOLE_KINDS: Final = (*rules.OBJECT_KINDS, policy.network_policy.KIND)
#: Every kind Bulkhead judges: the pod-bearing kinds, then those judged whole.
KINDS: Final = (*POD_KINDS, *WHOLE_KINDS)
_OBJECT_KINDS: Final = frozenset(WHOLE_KINDS)
#: The judged kinds that live outside namespaces.
CLUSTER_KINDS: Final = frozenset({"ClusterRole", "ClusterRoleBinding"})


#: kind -> (spec path, metadata path) of its pod template, computed once.
_PATHS: Final[Mapping[str, tuple[str, str]]] = {
    kind: (".".join((*keys, "spec")), ".".join((*keys, "metadata")))
    for kind, keys in TEMPLATE_PATHS.items()
}


def template_of(kind: str, obj: Mapping[str, Any]) -> tuple[Mapping[str, Any], str] | None:
    """The pod (template) object inside ``obj`` and its path, or None when it has none.

    Raises ``podview.PodSpecError`` when a step on the way is not an object.
    """
    keys = TEMPLATE_PATHS.get(kind)
    if keys is None:
        return None
    node: object = obj
    for depth, key in enumerate(keys):
        if type(node) is not dict and not isinstance(node, Mapping):
            raise podview.PodSpecError(".".join(keys[:depth]) or kind, "must be an object")
        node = node.get(key)
        if node is None:
            return None
    if type(node) is not dict and not isinstance(node, Mapping):
        raise podview.PodSpecError(".".join(keys), "must be an object")
    return node, ".".join(keys)


def pod_view(kind: str, obj: Mapping[str, Any]) -> podview.PodView | None:
    """The view of the pod spec ``obj`` carries, or None when it carries none.

    Raises ``podview.PodSpecError`` naming the field when the object's or the
    template's metadata or the pod spec has a field of the wrong type
    (``shapes``), so no check ever reads a malformed value.
    """
    found = template_of(kind, obj)
    if found is None:
        return None
    spec = found[0].get("spec")
    if spec is None:
        return None
    spec_path, metadata_path = _PATHS[kind]
    if found[0] is not obj:
        shapes.metadata(obj.get("metadata"), "metadata")
    shapes.pod_template(found[0], spec_path=spec_path, metadata_path=metadata_path)
    return podview.read(
        spec, metadata=found[0].get("metadata"), spec_path=spec_path, metadata_path=metadata_path
    )


def view(kind: str, obj: Mapping[str, Any]) -> podview.PodView | objectview.ObjectView | None:
    """The view the rules judge: ``pod_view``, or the whole object for an object rule's kind.

    Raises ``podview.PodSpecError`` naming the field when the metadata has a
    field of the wrong type.
    """
    if kind in _OBJECT_KINDS:
        shapes.metadata(obj.get("metadata"), "metadata")
        return objectview.ObjectView(kind, obj)
    return pod_view(kind, obj)


def judged_inputs(kind: str, obj: Mapping[str, Any] | None) -> object:
    """Everything in ``obj`` a check reads: its raw pod spec and the annotations checks read.

    For an object rule's kind: everything but its ``status`` and its metadata
    other than annotations.

    Used to tell whether an update changed anything that is judged. An object
    whose template cannot be read gives itself whole, so it always differs.
    """
    if obj is None:
        return None
    if kind in _OBJECT_KINDS:
        metadata = obj.get("metadata")
        annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
        return {k: v for k, v in obj.items() if k not in ("metadata", "status")}, annotations
    try:
        found = template_of(kind, obj)
    except podview.PodSpecError:
        return obj
    if found is None:
        return None
    template = found[0]
    metadata = template.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    if annotations is None:
        read: object = None
    elif isinstance(annotations, Mapping):
        read = {
            key: value
            for key, value in annotations.items()
            if not isinstance(key, str) or profiles.reads_annotation(key)
        }
    else:
        read = annotations
    return template.get("spec"), read
