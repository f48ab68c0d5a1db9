"""The words a person reads: denial messages, warnings, audit annotations. Pure, no I/O.

A denial names every offending policy, then each container (and the pod
level) with its path, then one line per violation with the check id, the
exact field path, what is wrong and the fix. Warnings are one short line per
violation. The same finding (same check id, same path) reported by several
policies is one line: under the first policy that reports it, naming the
others (``also policy ...``); a warning names them all. Check ids never
collide across kinds (Pod Security checks are ``pss/<id>``), so two lines
for one field are two different checks. No message ever carries a value
from the object other than what the check put in its finding (checks never
echo env values).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import Final

from webhook.rules import findings

_MAX_DENIAL_LINES: Final = 60


@dataclasses.dataclass(frozen=True, slots=True)
class Violation:
    """A finding of one policy, with what the policy does about it."""

    policy: str
    action: str
    profile: str | None
    finding: findings.Finding


def _owner(finding: findings.Finding) -> str:
    if finding.container is None:
        return "pod"
    # the container entry is the path up to and including "...Containers[i]"
    path = finding.path
    cut = path.find("]", max(path.find("ontainers["), 0))
    entry = path[: cut + 1] if cut >= 0 else path
    return f'container "{finding.container}" ({entry})'


def merged(violations: Iterable[Violation]) -> list[tuple[Violation, list[str]]]:
    """Each distinct (check, path) once, first report first, with every policy reporting it."""
    by_key: dict[tuple[str, str], tuple[Violation, list[str]]] = {}
    for v in violations:
        key = (v.finding.check, v.finding.path)
        entry = by_key.get(key)
        if entry is None:
            by_key[key] = (v, [v.policy])
        elif v.policy not in entry[1]:
            entry[1].append(v.policy)
    return list(by_key.values())


def denial(subject: str, violations: Sequence[Violation]) -> str:
    """One message for a refused object, grouped by policy and by container.

    At most ``_MAX_DENIAL_LINES`` lines, then how many violations were left
    out; only the lines shown are formatted, so an object with thousands of
    violations costs one grouping pass, not thousands of lines.
    """
    distinct = merged(violations)
    count = len(distinct)
    lines = [f"Bulkhead denied {subject}: {count} violation{'s' if count != 1 else ''}"]
    by_policy: dict[str, list[tuple[Violation, list[str]]]] = {}
    for v, policies in distinct:
        by_policy.setdefault(v.policy, []).append((v, policies))
    shown = 0
    for name, group in by_policy.items():
        if len(lines) >= _MAX_DENIAL_LINES:
            break
        profile = group[0][0].profile
        lines.append(f"policy {name}" + (f" (profile {profile})" if profile else "") + ":")
        # by container name first (cheap), then by owner only for what is shown
        by_name: dict[str | None, list[tuple[findings.Finding, list[str]]]] = {}
        for v, policies in group:
            by_name.setdefault(v.finding.container, []).append((v.finding, policies[1:]))
        for named in by_name.values():
            by_owner: dict[str, list[tuple[findings.Finding, list[str]]]] = {}
            for f, others in named:
                by_owner.setdefault(_owner(f), []).append((f, others))
            for owner, found in by_owner.items():
                if len(lines) >= _MAX_DENIAL_LINES - 1:
                    break
                lines.append(f"  {owner}:")
                room = _MAX_DENIAL_LINES - len(lines)
                lines.extend(
                    f"    - [{f.check}] {f.path}: {f.message}. Fix: {f.fix}"
                    + (f" (also policy {', '.join(others)})" if others else "")
                    for f, others in found[:room]
                )
                shown += min(room, len(found))
            if len(lines) >= _MAX_DENIAL_LINES - 1:
                break
    if shown < count:
        lines.append(f"... and {count - shown} more violations")
    return "\n".join(lines)


def warnings(violations: Iterable[Violation]) -> tuple[str, ...]:
    """One short line per distinct finding, naming every policy that reports it."""
    return tuple(
        f"{', '.join(policies)}: [{v.finding.check}] {v.finding.path}: "
        f"{v.finding.message}. Fix: {v.finding.fix}"
        for v, policies in merged(violations)
    )


def audit_annotations(violations: Iterable[Violation]) -> dict[str, str]:
    """``violations``: a JSON list of {policy, check, path} for the audit log."""
    entries = [
        {"policy": v.policy, "check": v.finding.check, "path": v.finding.path} for v in violations
    ]
    return {"violations": json.dumps(entries, separators=(",", ":"))} if entries else {}
