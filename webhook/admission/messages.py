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
class Omitted:
    """The findings of one policy an answer leaves out: past the first few (the per-policy cap).

    ``count`` is exact unless ``stopped``: then the policy's remaining checks
    were not run and ``count`` is what was found before judging stopped.
    """

    policy: str
    action: str
    count: int
    checks: tuple[str, ...]
    stopped: bool = False

    def describe(self) -> str:
        """``and K more findings of policy P (check ids a, b)``; ``and more ...`` when stopped."""
        ids = ", ".join(self.checks)
        if self.stopped:
            return (
                f"and more findings of policy {self.policy} (at least {self.count}; check ids "
                f"{ids} and maybe others: its remaining checks were not run once the cap was "
                "reached)"
            )
        noun = "finding" if self.count == 1 else "findings"
        return f"and {self.count} more {noun} of policy {self.policy} (check ids {ids})"


@dataclasses.dataclass(frozen=True, slots=True)
class Violation:
    """A finding of one policy, with what the policy does about it."""

    policy: str
    action: str
    profile: str | None
    finding: findings.Finding


def _owner(finding: findings.Finding, whole: str) -> str:
    if finding.container is None:
        return whole
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


def denial(
    subject: str,
    violations: Sequence[Violation],
    *,
    whole: str = "pod",
    omitted: Sequence[Omitted] = (),
) -> str:
    """One message for a refused object, grouped by policy and by container.

    ``whole`` heads the findings that belong to no container: ``pod``, or the
    kind of an object the object rules judge (``Service``). ``omitted`` are the
    findings the decision left out, one line per policy after its findings.
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
    noun = "violation" if count == 1 else "violations"
    if omitted:
        lines = [f"Bulkhead denied {subject}: {count} {noun} shown, more left out"]
    else:
        lines = [f"Bulkhead denied {subject}: {count} {noun}"]
    untold = {o.policy: f"  ... {o.describe()}" for o in omitted}
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
                by_owner.setdefault(_owner(violations[index].finding, whole), []).append(index)
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
        if name in untold:
            lines.append(untold.pop(name))
    lines.extend(untold.values())  # policies whose findings are all listed under others or cut
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


def warnings(
    violations: Iterable[Violation], *, omitted: Sequence[Omitted] = ()
) -> tuple[str, ...]:
    """One short line per distinct finding, naming every policy that reports it.

    Then one line per ``omitted``: ``... and K more findings of policy P (check ids ...)``.
    """
    return (
        *(
            f"{', '.join(policies)}: [{v.finding.check}] {v.finding.path}: "
            f"{v.finding.message}. Fix: {v.finding.fix}"
            for v, policies in merged(violations)
        ),
        *(f"... {o.describe()}" for o in omitted),
    )


def audit_annotations(
    violations: Iterable[Violation], *, omitted: Sequence[Omitted] = ()
) -> dict[str, str]:
    """``violations``: a JSON list of {policy, check, path} for the audit log.

    Each ``omitted`` adds ``{policy, omitted: K, checks: [...]}`` (and
    ``atLeast: true`` when judging stopped early).
    """
    entries: list[dict[str, object]] = [
        {"policy": v.policy, "check": v.finding.check, "path": v.finding.path} for v in violations
    ]
    for o in omitted:
        entry: dict[str, object] = {
            "policy": o.policy,
            "omitted": o.count,
            "checks": list(o.checks),
        }
        if o.stopped:
            entry["atLeast"] = True
        entries.append(entry)
    return {"violations": json.dumps(entries, separators=(",", ":"))} if entries else {}
