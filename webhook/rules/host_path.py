"""The ``hostPath`` rule: hostPath volumes only below allowed prefixes. Pure, no I/O.

Policy value (``spec.rules.hostPath``):

    hostPath:
      allowedPrefixes: [/var/log] # hostPath volumes only below these; [] forbids them
    hostPath: false              # no hostPath volumes (true: not checked)

Fields read: ``spec.volumes[i].hostPath.path``. A path is allowed when it
lies under a prefix on path-segment boundaries after removing empty and
``.`` segments: ``/var/log`` admits ``/var/log`` and ``/var/log/app``, never
``/var/logs``. A path with a ``..`` segment is always a finding (the
apiserver refuses it, and through a symlink it may leave the prefix), as is
a relative or empty path. With no prefixes, every hostPath volume is a
finding at ``spec.volumes[i].hostPath``. Prefixes in the policy must be
absolute and free of ``..``; ``/`` admits every absolute path.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any, Final

from webhook.rules import config, findings, openapi, podview, registry

ID: Final = "hostPath"

_CACHE_SIZE: Final = 1024
_FIX_PATH: Final = (
    "Use an emptyDir, configMap, secret or persistentVolumeClaim volume instead of hostPath, "
    "or a host path under an allowed prefix."
)
_FIX_NO_PATH: Final = (
    "Use an emptyDir, configMap, secret or persistentVolumeClaim volume instead of hostPath."
)


@dataclasses.dataclass(frozen=True, slots=True)
class Params:
    """Allowed host path prefixes, normalised (``/var/log``); empty: no hostPath volumes."""

    prefixes: tuple[str, ...]
    _below: tuple[str, ...] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        below = tuple(prefix.rstrip("/") + "/" for prefix in self.prefixes)
        object.__setattr__(self, "_below", below)

    def admits(self, normalized: str) -> bool:
        """Whether a normalised absolute path is a prefix or lies below one."""
        return normalized in self.prefixes or normalized.startswith(self._below)

    def text(self) -> str:
        """The prefixes for messages."""
        return ", ".join(self.prefixes)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def normalize(path: str) -> str | None:
    """An absolute path without empty and ``.`` segments: ``//var/./log/`` -> ``/var/log``.

    ``None`` when the path is not absolute or has a ``..`` segment.
    """
    if not path.startswith("/"):
        return None
    parts = [part for part in path.split("/") if part and part != "."]
    if ".." in parts:
        return None
    return "/" + "/".join(parts)


def parse(value: object, path: str) -> Params | None:
    """Validate ``spec.rules.hostPath``: ``false``, ``true`` (off) or ``{allowedPrefixes}``."""
    if value is False:
        return Params(prefixes=())
    if value is True:
        return None
    problems: config.Problems = []
    if not isinstance(value, Mapping):
        raise registry.ConfigError.at(
            path,
            "must be false (no hostPath volumes), true (not checked) or an object with "
            f"allowedPrefixes, not {config.describe(value)}",
        )
    spec = config.mapping(value, path=path, allowed=("allowedPrefixes",), problems=problems)
    prefixes: list[str] = []
    if spec is not None:
        if "allowedPrefixes" not in spec:
            problems.append(
                registry.Problem(
                    f"{path}.allowedPrefixes",
                    "must be set: a list of host path prefixes ([] forbids hostPath volumes)",
                )
            )
        else:
            items = config.string_items(
                spec["allowedPrefixes"], path=f"{path}.allowedPrefixes", problems=problems
            )
            for item_path, text in items:
                normalized = normalize(text)
                if normalized is None:
                    problems.append(
                        registry.Problem(
                            item_path,
                            f'"{text}" must be an absolute path without ".." segments',
                        )
                    )
                elif normalized not in prefixes:
                    prefixes.append(normalized)
    config.raise_if_any(problems)
    return Params(prefixes=tuple(prefixes))


def _path_problem(host_path: Any, params: Params) -> str | None:
    """What is wrong with a hostPath volume's path, or ``None`` when it is allowed."""
    if not isinstance(host_path, str) or not host_path:
        return "has no host path"
    normalized = normalize(host_path)
    if normalized is not None:
        return None if params.admits(normalized) else f'mounts the host path "{host_path}"'
    if not host_path.startswith("/"):
        return f'uses the relative host path "{host_path}"'
    return f'uses the host path "{host_path}", which contains ".."'


def check(params: Params, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for hostPath volumes outside the allowed prefixes."""
    volumes = pod.spec.get("volumes")
    if not volumes:
        return []
    out: list[findings.Finding] = []
    for index, volume in enumerate(podview.objects(volumes, pod, "volumes")):
        source = volume.get("hostPath")
        if source is None:
            continue
        if params.prefixes:
            if type(source) is not dict:
                source = podview.mapping(source, pod, f"volumes[{index}]", "hostPath")
            problem = _path_problem(source.get("path"), params)
            if problem is None:
                continue
            field: tuple[str, ...] = ("hostPath", "path")
            message = f"{problem}; the policy allows only paths under {params.text()}"
            fix = _FIX_PATH
        else:
            field = ("hostPath",)
            message = "is a hostPath volume; the policy allows none"
            fix = _FIX_NO_PATH
        name = volume.get("name")
        out.append(
            pod.finding(
                ID,
                f"volumes[{index}]",
                *field,
                message=f'volume "{name if isinstance(name, str) else ""}" {message}',
                fix=fix,
            )
        )
    return out


RULE: Final[registry.Rule[Params]] = registry.Rule(
    id=ID,
    title="hostPath volumes only under allowed prefixes",
    fields=("spec.volumes[*].hostPath.path",),
    fix=_FIX_PATH,
    severity="high",
    schema=openapi.either(
        "false: no hostPath volumes; true: not checked; {allowedPrefixes: [/var/log, ...]}: "
        "hostPath volumes only below these absolute paths ([] forbids them all). Either a "
        "boolean or an object, so the schema leaves it open and the operator reports a bad "
        "value in status."
    ),
    parse=parse,
    check=check,
)
