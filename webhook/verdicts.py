"""Judged objects and their merged findings: what every report format reads. Pure, no I/O.

A *result* is one judged object as ``bulkhead check`` builds it (``source``,
``document``, ``item``, ``kind``, ``namespace``, ``name``, ``allowed``,
``outcome``, ``message``, ``warnings`` and one ``violations`` entry per
policy finding, each with ``policy``, ``action``, ``profile``, ``check``,
``path``, ``container``, ``message`` and ``fix``).

Deduplication lives here, so every format agrees:

* an object read twice (the same file reached through two ``-f`` paths) is
  one result (``unique``);
* the findings of several policies on the same field path of one object are
  one ``Finding`` naming every policy and check (``merged``), with the
  strongest action (Deny over Warn over Audit) and that policy's words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Final

#: Policy actions from strongest to weakest.
ACTIONS: Final = ("Deny", "Warn", "Audit")
#: ``--fail-on``: the weakest action that fails a build.
FAIL_ON: Final = ("deny", "warn")

Result = Mapping[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """Every policy's verdict on one field path of one object, as one entry."""

    path: str
    checks: tuple[str, ...]
    policies: tuple[str, ...]
    action: str
    message: str
    fix: str
    container: str | None
    #: the Pod Security Standard (``baseline:latest``) of the strongest policy, if it is one
    profile: str | None

    def line(self) -> str:
        """``policies: [checks] path: message. Fix: fix``, as the webhook words a warning."""
        checks = ", ".join(self.checks)
        return (
            f"{', '.join(self.policies)}: [{checks}] {self.path}: {self.message}. Fix: {self.fix}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "checks": list(self.checks),
            "policies": list(self.policies),
            "action": self.action,
            "container": self.container,
            "message": self.message,
            "fix": self.fix,
        }


def _strength(violation: Mapping[str, Any]) -> int:
    action = violation["action"]
    return ACTIONS.index(action) if action in ACTIONS else len(ACTIONS)


def merged(result: Result) -> list[Finding]:
    """The object's findings, one per field path, in the order the policies reported them."""
    by_path: dict[str, list[Mapping[str, Any]]] = {}
    for violation in result["violations"]:
        by_path.setdefault(violation["path"], []).append(violation)
    out: list[Finding] = []
    for path, group in by_path.items():
        ordered = sorted(group, key=_strength)
        first = ordered[0]
        out.append(
            Finding(
                path=path,
                checks=tuple(dict.fromkeys(v["check"] for v in ordered)),
                policies=tuple(dict.fromkeys(v["policy"] for v in ordered)),
                action=first["action"],
                message=first["message"],
                fix=first["fix"],
                container=first["container"],
                profile=first.get("profile"),
            )
        )
    return out


def unique(results: Sequence[Result]) -> list[Result]:
    """``results`` without repeats of one object from one document of one file."""
    seen: set[tuple[Any, ...]] = set()
    out: list[Result] = []
    for r in results:
        key = (r["source"], r["document"], r.get("item"), r["kind"], r["namespace"], r["name"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def fails(result: Result, *, fail_on: str) -> bool:
    """Whether ``result`` fails a build: denied, or with ``fail_on="warn"`` also warned."""
    if not result["allowed"]:
        return True
    return fail_on == "warn" and any(v["action"] == "Warn" for v in result["violations"])


def where(result: Result) -> str:
    """``file (document N)``, or ``file (document N, item M)`` inside a List."""
    item = result.get("item")
    suffix = "" if item is None else f", item {item + 1}"
    return f"{result['source']} (document {result['document']}{suffix})"


def label(result: Result) -> str:
    """``Pod "namespace/name"``, as the webhook names an object."""
    return f'{result["kind"]} "{result["namespace"]}/{result["name"]}"'
