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
import operator
from collections.abc import Iterable, Sequence
from typing import Final

from webhook.rules import findings

_MAX_DENIAL_LINES: Final = 60
_KEY: Final = operator.attrgetter("finding.check", "finding.path")


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
    out (an exact count of the distinct ones). Only what can be shown is
    grouped and formatted: an object with a hundred thousand violations costs
    one pass over their keys and a few dictionary look-ups each, not a list
    per container and a line per violation.
    """
    keys = list(map(_KEY, violations))
    # the first index of each distinct (check, path): later reports of it are merged into it
    first = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))
    count = len(first)
    lines = [f"Bulkhead denied {subject}: {count} violation{'s' if count != 1 else ''}"]
    # per policy (first report first), per container name: the indexes of its distinct findings;
    # a container can only be shown if it is among the first ``_MAX_DENIAL_LINES`` of its policy
    by_policy: dict[str, dict[str | None, list[int]]] = {}
    for index, v in enumerate(violations):
        if first[keys[index]] != index:
            continue
        by_name = by_policy.get(v.policy)
        if by_name is None:
            by_name = by_policy[v.policy] = {}
        name = v.finding.container
        found = by_name.get(name)
        if found is not None:
            found.append(index)
        elif len(by_name) < _MAX_DENIAL_LINES:
            by_name[name] = [index]
    others = _others(violations, keys, first, count)
    shown = 0
    for name, group in by_policy.items():
        if len(lines) >= _MAX_DENIAL_LINES:
            break
        profile = violations[next(iter(group.values()))[0]].profile
        lines.append(f"policy {name}" + (f" (profile {profile})" if profile else "") + ":")
        for named in group.values():
            by_owner: dict[str, list[int]] = {}
            for index in named:
                by_owner.setdefault(_owner(violations[index].finding), []).append(index)
            for owner, indexes in by_owner.items():
                if len(lines) >= _MAX_DENIAL_LINES - 1:
                    break
                lines.append(f"  {owner}:")
                room = _MAX_DENIAL_LINES - len(lines)
                lines.extend(
                    _line(violations[i].finding, others.get(i, ())) for i in indexes[:room]
                )
                shown += min(room, len(indexes))
            if len(lines) >= _MAX_DENIAL_LINES - 1:
                break
    if shown < count:
        lines.append(f"... and {count - shown} more violations")
    return "\n".join(lines)


def _line(f: findings.Finding, others: Sequence[str]) -> str:
    also = f" (also policy {', '.join(others)})" if others else ""
    return f"    - [{f.check}] {f.path}: {f.message}. Fix: {f.fix}{also}"


def _others(
    violations: Sequence[Violation],
    keys: Sequence[tuple[str, str]],
    first: dict[tuple[str, str], int],
    count: int,
) -> dict[int, list[str]]:
    """For each distinct finding reported by several policies, the other policies, in order."""
    others: dict[int, list[str]] = {}
    if count == len(keys):
        return others
    for index, key in enumerate(keys):
        head = first[key]
        if head == index:
            continue
        policy = violations[index].policy
        named = others.setdefault(head, [])
        if policy != violations[head].policy and policy not in named:
            named.append(policy)
    return others


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
