"""The ``capabilities`` rule: what containers must drop and may add. Pure, no I/O.

Policy value (``spec.rules.capabilities``), one or both fields:

    capabilities:
      requireDrop: [ALL]                # every container must drop these
      allowedAdd: [NET_BIND_SERVICE]    # and may add only these

- ``requireDrop``: each name must be in the container's
  ``securityContext.capabilities.drop``; dropping ``ALL`` satisfies every
  name, while ``requireDrop: [ALL]`` needs ``ALL`` itself.
- ``allowedAdd``: left out, anything may be added; ``[]``, nothing may be
  added. Adding ``ALL`` is allowed only when ``ALL`` is listed, and listing
  ``ALL`` allows adding anything.

How names are read: a pod's names are read the way the container runtime
reads them, asymmetrically, so that no spelling can look safer than it is.

What the runtimes do with ``securityContext.capabilities`` (the kubelet
passes the strings through unchanged in the CRI ``Capability`` message):

- containerd (``WithCapabilities`` in its CRI plugin's ``opts/spec_linux``):
  ``ALL`` is looked for in ``add`` and in ``drop`` with a case-insensitive
  comparison (``strings.EqualFold``), so ``all`` and ``All`` mean ``ALL``.
  Every other name, in ``add`` and ``drop`` alike, is upper-cased and given
  a ``CAP_`` prefix unconditionally: ``net_raw`` becomes ``CAP_NET_RAW``,
  but ``CAP_NET_RAW`` becomes ``CAP_CAP_NET_RAW``, a capability that does
  not exist, so dropping it drops nothing (and adding it adds nothing).
  ``CAP_ALL`` is not ``ALL``: it becomes ``CAP_CAP_ALL`` and drops nothing.
- CRI-O (``setupCapabilities`` in its container factory): ``ALL`` is also
  compared case-insensitively; a name that does not start with ``cap_`` (in
  any case) is upper-cased and prefixed with ``CAP_``, while a name that
  already starts with it is kept as written, so ``CAP_SYS_ADMIN`` in ``add``
  does add ``SYS_ADMIN`` there. ``CAP_ALL`` is not ``ALL`` either.

So, in the pod:

- a name in ``drop`` counts only in the form both runtimes honour: ``ALL``
  in any case drops everything; a bare name in any case (``net_raw``)
  drops that capability; a ``CAP_``-prefixed name (``CAP_NET_RAW``,
  ``CAP_ALL``) counts as dropping nothing, since containerd drops nothing
  for it. Names are never trimmed: `` ALL`` is not ``ALL`` to either runtime.
- a name in ``add`` is read liberally: anything that could add a capability
  on some runtime counts. It is upper-cased and a ``CAP_`` prefix removed
  (``cap_sys_admin`` and ``CAP_SYS_ADMIN`` both add ``SYS_ADMIN``; ``all``
  and ``CAP_ALL`` add ``ALL``). An unknown added name is simply not allowed.

Pod Security Admission's ``capabilities_restricted`` check is stricter still
and requires the literal ``ALL`` in ``drop``; that check belongs to the
profiles and is not changed by this reading.

Policy names (``requireDrop``, ``allowedAdd``) state intent, so they are read
liberally (upper case, ``CAP_`` prefix removed); they must be Linux
capability names or ``ALL``, and an unknown name is a config error.

Fields read, for containers of all three kinds (capabilities are per
container): ``securityContext.capabilities.drop`` and ``.add``. A missing
drop is a finding at ``...capabilities.drop``; each disallowed addition at
its ``...capabilities.add[i]``. Windows pods (``spec.os.name: windows``) are
exempt: capabilities are Linux-only and the apiserver refuses them there.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from typing import Any, Final

from webhook.rules import config, findings, openapi, podview, registry

ID: Final = "capabilities"
ALL: Final = "ALL"

# Linux capabilities (include/uapi/linux/capability.h), without the CAP_ prefix.
KNOWN: Final = frozenset(
    {
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
        "PERFMON",
        "BPF",
        "CHECKPOINT_RESTORE",
    }
)
_FIELDS: Final = ("requireDrop", "allowedAdd")
#: Most names in a capability list (41 capabilities, ALL, and spellings of them).
_MAX_NAMES: Final = 64
_FIX: Final = (
    "Set securityContext.capabilities.drop: [ALL] and add back only the capabilities "
    "the policy allows."
)


@dataclasses.dataclass(frozen=True, slots=True)
class Params:
    """Normalised names: what must be dropped, and what may be added (``None``: anything)."""

    require_drop: frozenset[str]
    allowed_add: frozenset[str] | None


def normalize(name: str) -> str:
    """``cap_net_raw`` -> ``NET_RAW``: upper case, no ``CAP_`` prefix.

    The liberal reading, for policy names and for names a pod adds.
    """
    return name.upper().removeprefix("CAP_")


def dropped(name: object) -> str | None:
    """What a name in ``drop`` drops on every runtime: ``ALL``, a bare name, or nothing.

    ``all`` -> ``ALL``, ``net_raw`` -> ``NET_RAW``; ``CAP_NET_RAW``, ``CAP_ALL``
    and anything that is not a string -> ``None`` (containerd drops nothing).
    """
    if not isinstance(name, str):
        return None
    upper = name.upper()
    if upper.startswith("CAP_"):
        return None
    return upper


def _names(value: object, path: str, *, problems: config.Problems) -> frozenset[str]:
    names: set[str] = set()
    for item_path, text in config.string_items(value, path=path, problems=problems):
        name = normalize(text)
        if name == ALL or name in KNOWN:
            names.add(name)
            continue
        close = difflib.get_close_matches(name, sorted(KNOWN), n=1)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        problems.append(
            registry.Problem(
                item_path,
                f'unknown capability "{text}": use a Linux capability name '
                f"such as NET_BIND_SERVICE, or ALL{hint}",
            )
        )
    return frozenset(names)


def parse(value: object, path: str) -> Params:
    """Validate ``spec.rules.capabilities``; every bad name is reported at its index."""
    problems: config.Problems = []
    spec = config.mapping(value, path=path, allowed=_FIELDS, problems=problems)
    require_drop: frozenset[str] = frozenset()
    allowed_add: frozenset[str] | None = None
    if spec is not None:
        if not any(key in spec for key in _FIELDS):
            problems.append(registry.Problem(path, "set requireDrop, allowedAdd or both"))
        if "requireDrop" in spec:
            require_drop = _names(spec["requireDrop"], f"{path}.requireDrop", problems=problems)
        if "allowedAdd" in spec:
            allowed_add = _names(spec["allowedAdd"], f"{path}.allowedAdd", problems=problems)
            if ALL in allowed_add:
                allowed_add = None
    config.raise_if_any(problems)
    return Params(require_drop=require_drop, allowed_add=allowed_add)


def _names_in_pod(container: podview.Container, *, value: Any, key: str) -> Sequence[Any]:
    if value is None:
        return ()
    if isinstance(value, list):
        return value
    path = container.field("securityContext", "capabilities", key)
    raise podview.PodSpecError(path, "must be a list")


def _missing_drops(required: frozenset[str], drop: Sequence[Any]) -> list[str]:
    names = {dropped(name) for name in drop}
    if ALL in names:
        return []
    return sorted(required - names)


def _add_finding(
    container: podview.Container, *, index: int, name: Any, allowed: frozenset[str]
) -> findings.Finding:
    shown = normalize(name) if isinstance(name, str) else config.describe(name)
    allowed_text = ", ".join(sorted(allowed)) if allowed else "nothing"
    return container.finding(
        ID,
        "securityContext",
        "capabilities",
        f"add[{index}]",
        message=(
            f"{container.label} adds capability {shown}; the policy allows adding {allowed_text}"
        ),
        fix=f"Remove {shown} from securityContext.capabilities.add.",
    )


def check(params: Params, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for missing drops and disallowed additions."""
    if pod.windows:
        return []
    out: list[findings.Finding] = []
    required = params.require_drop
    allowed = params.allowed_add
    for container in pod.containers:
        raw = container.security_context.get("capabilities")
        if raw is None:
            drop: Sequence[Any] = ()
            add: Sequence[Any] = ()
        else:
            caps = podview.mapping(raw, container, "securityContext", "capabilities")
            drop = _names_in_pod(container, value=caps.get("drop"), key="drop")
            add = _names_in_pod(container, value=caps.get("add"), key="add")
        if required and ALL not in drop:
            missing = _missing_drops(required, drop)
            if missing:
                if missing == [ALL]:
                    what = "ALL capabilities"
                    fix = _FIX
                else:
                    what = ", ".join(missing)
                    fix = f"Add ALL (or {what}) to securityContext.capabilities.drop."
                out.append(
                    container.finding(
                        ID,
                        "securityContext",
                        "capabilities",
                        "drop",
                        message=f"{container.label} does not drop {what}",
                        fix=fix,
                    )
                )
        if allowed is not None and add:
            for index, name in enumerate(add):
                if not isinstance(name, str) or normalize(name) not in allowed:
                    out.append(_add_finding(container, index=index, name=name, allowed=allowed))
    return out


def _names_schema(description: str) -> openapi.Schema:
    """The schema of a list of capability names, as ``_names`` reads it."""
    known = sorted(KNOWN | {ALL})
    schema = openapi.names(description, pattern=r"^[A-Za-z_]+$")
    schema["items"]["maxLength"] = 32
    schema["maxItems"] = _MAX_NAMES
    schema["x-kubernetes-validations"] = [
        openapi.cel(
            f"self.all(name, name.upperAscii() in {openapi.cel_list(known)} || "
            f"(name.upperAscii().startsWith('CAP_') && "
            f"name.upperAscii().substring(4) in {openapi.cel_list(known)}))",
            "every name must be a Linux capability (such as NET_BIND_SERVICE, "
            "with or without CAP_, any case) or ALL",
        )
    ]
    schema["minItems"] = 0
    return schema


RULE: Final[registry.Rule[Params]] = registry.Rule(
    id=ID,
    title="Containers drop capabilities and add only allowed ones",
    fields=(
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.capabilities.drop",
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.capabilities.add",
    ),
    fix=_FIX,
    severity="medium",
    schema=openapi.obj(
        "Names are Linux capabilities, compared in upper case without a CAP_ prefix; ALL "
        "stands for every capability.",
        {
            "requireDrop": _names_schema(
                "Capabilities every container must list in securityContext.capabilities.drop "
                "(dropping ALL satisfies every name)."
            ),
            "allowedAdd": _names_schema(
                "The only capabilities a container may add (left out: any; []: none; ALL: any)."
            ),
        },
        minProperties=1,
    ),
    parse=parse,
    check=check,
)
