"""The ``rbac`` rule: roles and bindings grant only the permissions needed. Pure, no I/O.

Policy value (``spec.rules.rbac``):

    rbac: true                       # enforce, no exceptions
    rbac:
      allowedSubjects: [Group:platform-admins, "ServiceAccount:argocd/*"]
      allowedRoles: [system:*]         # roles that may hold what is flagged below
    rbac: false                      # not checked

Kinds judged: ``Role``, ``ClusterRole``, ``RoleBinding``, ``ClusterRoleBinding``.

Fields read, in bindings (``roleRef``, ``subjects``): binding the ClusterRole ``cluster-admin``,
which grants every verb on every resource, is a finding at each subject
(``subjects[i]``) not in ``allowedSubjects``. A subject is written
``ServiceAccount:<namespace>/<name>``, ``Group:<name>`` or ``User:<name>``;
an entry ending in ``*`` matches every subject that starts with the rest.
A binding names its role, it does not carry it, so a role of another name
that also grants ``*`` on ``*`` is caught when that role is written (below).

Fields read, in roles (``rules[i]``), unless the role's name is in ``allowedRoles`` (same
``*`` suffix form):

- a ``*`` verb (``rules[i].verbs[j]``) or a ``*`` resource, or ``*/<sub>``
  (``rules[i].resources[j]``): wildcards grant what exists today and every
  resource and verb added later;
- the verbs ``escalate``, ``bind`` and ``impersonate``: each lets the holder
  step around RBAC itself (grant itself more, bind any role, act as anyone);
- in a ClusterRole, reading ``secrets`` of the core group (``get``, ``list``,
  ``watch``) without ``resourceNames``: bound by a ClusterRoleBinding it reads
  every Secret of the cluster, including service account tokens.

An aggregated ClusterRole (``aggregationRule``) is judged by the rules written
into it; the aggregation controller fills them, so exclude its user if needed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final

from webhook.rules import config, findings, objectview, openapi, registry

ID: Final = "rbac"
ADMIN_ROLE: Final = "cluster-admin"
PRIVILEGE_VERBS: Final = frozenset({"escalate", "bind", "impersonate"})
READ_VERBS: Final = frozenset({"get", "list", "watch"})
BINDING_KINDS: Final = ("RoleBinding", "ClusterRoleBinding")
ROLE_KINDS: Final = ("Role", "ClusterRole")
_SUBJECT_KINDS: Final = ("ServiceAccount", "Group", "User")

_FIX: Final = (
    "Grant only the verbs and resources the workload needs, named one by one; bind "
    "cluster-admin only to subjects the policy lists under spec.rules.rbac.allowedSubjects, "
    "and keep escalate, bind, impersonate and cluster-wide Secret reads to roles listed "
    "under spec.rules.rbac.allowedRoles."
)


@dataclasses.dataclass(frozen=True, slots=True)
class Patterns:
    """Names and ``prefix*`` patterns, matched exactly (no other wildcard)."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def matches(self, name: str) -> bool:
        return name in self.exact or any(name.startswith(p) for p in self.prefixes)


def _patterns(written: list[tuple[str, str]]) -> Patterns:
    items = [item for _, item in written]
    return Patterns(
        exact=frozenset(i for i in items if not i.endswith("*")),
        prefixes=tuple(i[:-1] for i in items if i.endswith("*")),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Params:
    allowed_subjects: Patterns = Patterns()
    allowed_roles: Patterns = Patterns()


def parse(value: object, path: str) -> Params | None:
    """Read ``spec.rules.rbac``: true, false (off) or an object with the allow-lists."""
    problems: config.Problems = []
    spec = config.switch_or_fields(
        value,
        path=path,
        allowed=("allowedSubjects", "allowedRoles"),
        enforces="no exceptions",
        problems=problems,
    )
    if spec is False:
        return None
    subjects: list[tuple[str, str]] = []
    roles: list[tuple[str, str]] = []
    if isinstance(spec, Mapping) and "allowedSubjects" in spec:
        at = config.child(path, "allowedSubjects")
        subjects = config.string_items(spec["allowedSubjects"], path=at, problems=problems)
        for item_path, item in subjects:
            if item.partition(":")[0] not in _SUBJECT_KINDS or ":" not in item:
                problems.append(
                    registry.Problem(
                        item_path,
                        f"{item!r} must be ServiceAccount:<namespace>/<name>, "
                        "Group:<name> or User:<name>",
                    )
                )
    if isinstance(spec, Mapping) and "allowedRoles" in spec:
        at = config.child(path, "allowedRoles")
        roles = config.string_items(spec["allowedRoles"], path=at, problems=problems)
    config.raise_if_any(problems)
    return Params(allowed_subjects=_patterns(subjects), allowed_roles=_patterns(roles))


def subject_name(subject: Mapping[str, Any], path: str, *, namespace: str) -> str:
    """How ``allowedSubjects`` names a subject: ``ServiceAccount:ns/name``, ``Group:name``."""
    kind = objectview.string(subject.get("kind"), f"{path}.kind") or ""
    name = objectview.string(subject.get("name"), f"{path}.name") or ""
    if kind == "ServiceAccount":
        written = objectview.string(subject.get("namespace"), f"{path}.namespace")
        return f"ServiceAccount:{written or namespace}/{name}"
    return f"{kind}:{name}"


def _binding(params: Params, binding: objectview.ObjectView) -> list[findings.Finding]:
    ref = objectview.mapping(binding.obj.get("roleRef"), "roleRef")
    kind = objectview.string(ref.get("kind"), "roleRef.kind")
    name = objectview.string(ref.get("name"), "roleRef.name")
    if kind != "ClusterRole" or name != ADMIN_ROLE:
        return []
    namespace = objectview.string(binding.metadata.get("namespace"), "metadata.namespace") or ""
    out: list[findings.Finding] = []
    for index, subject in enumerate(objectview.objects(binding.obj.get("subjects"), "subjects")):
        path = f"subjects[{index}]"
        shown = subject_name(subject, path, namespace=namespace)
        if params.allowed_subjects.matches(shown):
            continue
        out.append(
            binding.finding(
                ID,
                path,
                message=f"{binding.label} grants {shown} cluster-admin (every verb on every "
                "resource), and it is not in the policy's allowedSubjects",
                fix=_FIX,
            )
        )
    return out


def _core_group(groups: object, path: str) -> bool:
    return any(group in ("", "*") for group in objectview.strings(groups, path))


def _role(params: Params, role: objectview.ObjectView) -> list[findings.Finding]:
    if params.allowed_roles.matches(role.name):
        return []
    cluster_wide = role.kind == "ClusterRole"
    out: list[findings.Finding] = []
    for index, rule in enumerate(objectview.objects(role.obj.get("rules"), "rules")):
        at = f"rules[{index}]"
        verbs = objectview.strings(rule.get("verbs"), f"{at}.verbs")
        resources = objectview.strings(rule.get("resources"), f"{at}.resources")
        for position, verb in enumerate(verbs):
            if verb == "*":
                reason = "grants every verb, including any added later"
            elif verb in PRIVILEGE_VERBS:
                reason = f"grants {verb}, which steps around RBAC itself"
            else:
                continue
            out.append(
                role.finding(
                    ID, f"{at}.verbs[{position}]", message=f"{role.label} {reason}", fix=_FIX
                )
            )
        for position, resource in enumerate(resources):
            if resource == "*" or resource.startswith("*/"):
                message = f"{role.label} grants every resource ({resource}), including new ones"
            elif (
                cluster_wide
                and resource == "secrets"
                and READ_VERBS.intersection(verbs)
                and not rule.get("resourceNames")
                and _core_group(rule.get("apiGroups"), f"{at}.apiGroups")
            ):
                message = f"{role.label} reads every Secret of the cluster when bound cluster-wide"
            else:
                continue
            out.append(role.finding(ID, f"{at}.resources[{position}]", message=message, fix=_FIX))
    return out


def check(params: Params, obj: objectview.ObjectView) -> list[findings.Finding]:
    """Findings for admin bindings outside the allow-list and over-broad roles."""
    if obj.kind in BINDING_KINDS:
        return _binding(params, obj)
    return _role(params, obj)


RULE: Final[registry.ObjectRule[Params]] = registry.ObjectRule(
    id=ID,
    title="Roles and bindings grant only the permissions needed",
    kinds=(*ROLE_KINDS, *BINDING_KINDS),
    fields=(
        "roleRef",
        "subjects[*]",
        "rules[*].verbs",
        "rules[*].resources",
        "rules[*].apiGroups",
        "rules[*].resourceNames",
    ),
    fix=_FIX,
    severity="high",
    schema=openapi.either(
        "true: no cluster-admin binding, no wildcard verb or resource, no escalate, bind or "
        "impersonate, no ClusterRole reading every Secret; false: not checked; "
        "{allowedSubjects: [Group:admins, ServiceAccount:ns/name, User:name], allowedRoles: "
        "[system:*]}: with these exceptions (a trailing * matches any rest). Either a boolean "
        "or an object, so the schema leaves it open and the operator reports a bad value in "
        "status."
    ),
    parse=parse,
    check=check,
)
