"""Pod specs for profile tables: the minimal restricted pod, with edits applied."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from webhook import profiles
from webhook.rules import podview

Edit = Callable[[dict[str, Any]], None]

_MINIMAL: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "initContainers": [
        {
            "name": "init",
            "image": "registry.k8s.io/pause",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    ],
    "containers": [
        {
            "name": "app",
            "image": "registry.k8s.io/pause",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    ],
}

DEBUGGER: dict[str, Any] = {
    "name": "debugger",
    "image": "busybox",
    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
}


def pod(*edits: Edit, annotations: dict[str, str] | None = None) -> podview.PodView:
    """The minimal restricted pod (one init, one regular container) after ``edits``."""
    spec = copy.deepcopy(_MINIMAL)
    for edit in edits:
        edit(spec)
    return podview.read(spec, metadata={"name": "p", "annotations": annotations or {}})


def judge(level: str, version: str, view: podview.PodView) -> set[str]:
    """The ids of the checks that deny ``view`` at ``level:version`` (newest known as latest)."""
    profile = profiles.resolve(level, version, latest_minor=profiles.NEWEST_MINOR)
    return {f.check for f in profile.evaluate(view)}


def container(kind: str, index: int = 0) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Accessor for one container's securityContext (created when missing)."""

    def get(spec: dict[str, Any]) -> dict[str, Any]:
        sc: dict[str, Any] = spec[kind][index].setdefault("securityContext", {})
        return sc

    return get


def add_debugger(spec: dict[str, Any]) -> None:
    spec["ephemeralContainers"] = [copy.deepcopy(DEBUGGER)]
