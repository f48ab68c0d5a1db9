"""Pod Security checks on kernel confinement: AppArmor, SELinux, seccomp. Pure, no I/O.

A bad value at pod level or on any container denies; a good value at the other
level does not cure it.

* ``appArmorProfile`` (baseline, v1.0): ``appArmorProfile.type`` at pod level and on
  every container is unset, ``RuntimeDefault`` or ``Localhost``; every annotation
  ``container.apparmor.security.beta.kubernetes.io/*`` (whether or not the container
  exists) is ``""``, ``runtime/default`` or ``localhost/...``.
* ``seLinuxOptions`` (baseline, v1.0; v1.31 adds ``container_engine_t``):
  ``seLinuxOptions.type`` at pod level and on every container is empty or one of the
  container types; ``user`` and ``role`` are empty; ``level`` is free.
* ``seccompProfile_baseline`` (baseline): v1.0-v1.18 reads only the annotations
  ``seccomp.security.alpha.kubernetes.io/pod`` and
  ``container.seccomp.security.alpha.kubernetes.io/<container>`` (absent,
  ``runtime/default``, ``docker/default`` or ``localhost/...``); from v1.19 only
  the ``seccompProfile.type`` fields (unset, ``RuntimeDefault`` or ``Localhost``).
* ``seccompProfile_restricted`` (restricted, v1.19; Windows pods exempt from v1.25):
  an explicit type other than ``RuntimeDefault``/``Localhost`` anywhere denies;
  otherwise each container sets a valid type itself or inherits a valid pod type.
  Overrides ``seccompProfile_baseline``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from webhook.profiles import catalog
from webhook.rules import findings, podview

_APPARMOR_PREFIX: Final = "container.apparmor.security.beta.kubernetes.io/"
_APPARMOR_TYPES: Final = frozenset({"RuntimeDefault", "Localhost"})
_SECCOMP_TYPES: Final = _APPARMOR_TYPES
_SECCOMP_POD_ANNOTATION: Final = "seccomp.security.alpha.kubernetes.io/pod"
_SECCOMP_CONTAINER_ANNOTATION: Final = "container.seccomp.security.alpha.kubernetes.io/"
#: Every pod annotation a check reads is one of these keys or starts with one of these prefixes.
READ_ANNOTATIONS: Final = (_APPARMOR_PREFIX, _SECCOMP_POD_ANNOTATION, _SECCOMP_CONTAINER_ANNOTATION)


def reads_annotation(key: str) -> bool:
    """Whether some Pod Security check reads the pod annotation ``key`` (at any version)."""
    return key.startswith(READ_ANNOTATIONS)


_SELINUX_TYPES_1_0: Final = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
_SELINUX_TYPES_1_31: Final = _SELINUX_TYPES_1_0 | {"container_engine_t"}


def _type_of(security_context: Mapping[str, object], key: str) -> object:
    profile = security_context.get(key)
    return profile.get("type") if isinstance(profile, dict) else None


_Owner = podview.PodView | podview.Container


def _who(owner: _Owner) -> str:
    return "pod" if isinstance(owner, podview.PodView) else f'container "{owner.name}"'


def _levels(pod: podview.PodView) -> list[_Owner]:
    """The pod and every container: each has a ``security_context`` and makes findings."""
    levels: list[_Owner] = [pod]
    levels.extend(pod.containers)
    return levels


def _apparmor(pod: podview.PodView) -> list[findings.Finding]:
    out: list[findings.Finding] = []
    for owner in _levels(pod) if pod.sets_security("appArmorProfile") else ():
        kind = _type_of(owner.security_context, "appArmorProfile")
        if kind is not None and kind not in _APPARMOR_TYPES:
            out.append(
                owner.finding(
                    "appArmorProfile",
                    "securityContext",
                    "appArmorProfile",
                    "type",
                    message=f"forbidden AppArmor profile ({_who(owner)} must not set "
                    f"appArmorProfile.type={kind!r})",
                    fix='set appArmorProfile.type to "RuntimeDefault" or "Localhost"',
                )
            )
    for key, value in pod.annotations.items():
        if not key.startswith(_APPARMOR_PREFIX):
            continue
        if value in ("", "runtime/default") or (
            isinstance(value, str) and value.startswith("localhost/")
        ):
            continue
        out.append(
            pod.finding_at(
                "appArmorProfile",
                pod.annotation_path(key),
                message=f"forbidden AppArmor profile (annotation {key}={value!r})",
                fix='set the annotation to "runtime/default" or "localhost/<profile>", or '
                "use securityContext.appArmorProfile instead",
            )
        )
    return out


def _selinux_with(pod: podview.PodView, allowed: frozenset[str]) -> list[findings.Finding]:
    if not pod.sets_security("seLinuxOptions"):
        return []
    out: list[findings.Finding] = []
    for owner in _levels(pod):
        options = owner.security_context.get("seLinuxOptions")
        if not isinstance(options, dict):
            continue
        kind = options.get("type")
        if kind is not None and kind not in allowed:
            out.append(
                owner.finding(
                    "seLinuxOptions",
                    "securityContext",
                    "seLinuxOptions",
                    "type",
                    message=f"seLinuxOptions ({_who(owner)} must not set "
                    f"seLinuxOptions.type={kind!r})",
                    fix="remove seLinuxOptions.type or use one of: "
                    + ", ".join(sorted(t for t in allowed if t)),
                )
            )
        for key in ("user", "role"):
            if options.get(key):
                out.append(
                    owner.finding(
                        "seLinuxOptions",
                        "securityContext",
                        "seLinuxOptions",
                        key,
                        message=f"seLinuxOptions ({_who(owner)} must not set seLinuxOptions.{key})",
                        fix=f"remove seLinuxOptions.{key}",
                    )
                )
    return out


def _selinux_1_0(pod: podview.PodView) -> list[findings.Finding]:
    return _selinux_with(pod, _SELINUX_TYPES_1_0)


def _selinux_1_31(pod: podview.PodView) -> list[findings.Finding]:
    return _selinux_with(pod, _SELINUX_TYPES_1_31)


def _annotation_ok(value: object) -> bool:
    return value in ("runtime/default", "docker/default") or (
        isinstance(value, str) and value.startswith("localhost/")
    )


def _seccomp_annotations(pod: podview.PodView) -> list[findings.Finding]:
    annotations = pod.annotations
    if not annotations:
        return []
    keys = [_SECCOMP_POD_ANNOTATION]
    keys.extend(_SECCOMP_CONTAINER_ANNOTATION + c.name for c in pod.containers)
    return [
        pod.finding_at(
            "seccompProfile_baseline",
            pod.annotation_path(key),
            message=f"seccompProfile (annotation {key}={annotations[key]!r})",
            fix='set the annotation to "runtime/default" or "localhost/<profile>"',
        )
        for key in keys
        if key in annotations and not _annotation_ok(annotations[key])
    ]


def _bad_seccomp_fields(pod: podview.PodView, check: str) -> list[findings.Finding]:
    if not pod.sets_security("seccompProfile"):
        return []
    out: list[findings.Finding] = []
    for owner in _levels(pod):
        kind = _type_of(owner.security_context, "seccompProfile")
        if kind is not None and kind not in _SECCOMP_TYPES:
            out.append(
                owner.finding(
                    check,
                    "securityContext",
                    "seccompProfile",
                    "type",
                    message=f"seccompProfile ({_who(owner)} must not set "
                    f"securityContext.seccompProfile.type={kind!r})",
                    fix='set seccompProfile.type to "RuntimeDefault" or "Localhost"',
                )
            )
    return out


def _seccomp_fields(pod: podview.PodView) -> list[findings.Finding]:
    return _bad_seccomp_fields(pod, "seccompProfile_baseline")


def _seccomp_restricted(pod: podview.PodView) -> list[findings.Finding]:
    out = _bad_seccomp_fields(pod, "seccompProfile_restricted")
    pod_valid = _type_of(pod.security_context, "seccompProfile") in _SECCOMP_TYPES
    if pod_valid:
        return out
    for c in pod.containers:
        if _type_of(c.security_context, "seccompProfile") is None:
            out.append(
                c.finding(
                    "seccompProfile_restricted",
                    "securityContext",
                    "seccompProfile",
                    "type",
                    message=f'seccompProfile (container "{c.name}" must set '
                    'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
                    fix='set seccompProfile.type to "RuntimeDefault" on the pod or the container',
                )
            )
    return out


def _seccomp_restricted_linux(pod: podview.PodView) -> list[findings.Finding]:
    return [] if pod.windows else _seccomp_restricted(pod)


CHECKS: Final[tuple[catalog.Check, ...]] = (
    catalog.Check(
        id="appArmorProfile",
        level="baseline",
        reason="forbidden AppArmor profile",
        variants=(catalog.Variant(0, _apparmor),),
    ),
    catalog.Check(
        id="seLinuxOptions",
        level="baseline",
        reason="seLinuxOptions",
        variants=(catalog.Variant(0, _selinux_1_0), catalog.Variant(31, _selinux_1_31)),
    ),
    catalog.Check(
        id="seccompProfile_baseline",
        level="baseline",
        reason="seccompProfile",
        variants=(
            catalog.Variant(0, _seccomp_annotations),
            catalog.Variant(19, _seccomp_fields),
        ),
    ),
    catalog.Check(
        id="seccompProfile_restricted",
        level="restricted",
        reason="seccompProfile",
        variants=(
            catalog.Variant(19, _seccomp_restricted),
            catalog.Variant(25, _seccomp_restricted_linux),
        ),
        overrides="seccompProfile_baseline",
    ),
)
