"""How ``bulkhead check`` reports its verdicts: text, JSON, YAML, SARIF or JUnit XML.

Every format reads the results and merged findings of ``webhook.verdicts``,
so the same finding on the same path from two policies is one entry in each.
Text keeps the webhook's own denial message and prints each warning-only
finding once; JSON and YAML keep the raw ``violations`` and add the merged
``findings``; SARIF (``webhook.sarif``) and JUnit (``webhook.junit``) carry
only merged findings, and JUnit fails exactly the objects that fail the
build under ``--fail-on``. No I/O, except that SARIF reads the source files
again for line numbers (``webhook.fieldlines``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

import yaml

from webhook import fieldlines, junit, sarif, verdicts

FORMATS: Final = ("text", "json", "yaml", "sarif", "junit")
#: What to do about a ``namespaceSelector`` that needs labels not known offline.
UNDECIDED_HINT: Final = (
    "give the namespace's labels: --namespace-labels FILE "
    "(kubectl get namespace NAME -o yaml), or add the Namespace object to the input"
)


def text(results: Sequence[verdicts.Result], *, skipped: int) -> str:
    """The human report: the webhook's denial message, then each warning-only finding once."""
    lines: list[str] = []
    for r in results:
        warned = [f for f in verdicts.merged(r) if f.action == "Warn"]
        if not r["allowed"]:
            lines.append(f"DENY  {verdicts.where(r)}")
            lines.extend(f"      {line}" for line in r["message"].splitlines())
        elif r["undecided"]:
            lines.append(f"UNDECIDED  {verdicts.where(r)} {verdicts.label(r)}")
        elif warned:
            lines.append(f"WARN  {verdicts.where(r)} {verdicts.label(r)}")
        else:
            lines.append(f"PASS  {verdicts.where(r)} {verdicts.label(r)}")
        lines.extend(f"      warning: {f.line()}" for f in warned)
        lines.extend(f"      undecided: {line}" for line in r["undecided"])
        if r["undecided"]:
            lines.append(f"      {UNDECIDED_HINT}")
    denied = sum(1 for r in results if not r["allowed"])
    undecided = sum(1 for r in results if r["allowed"] and r["undecided"])
    warned_objects = sum(
        1 for r in results if r["allowed"] and not r["undecided"] and r["warnings"]
    )
    passed = len(results) - denied - undecided - warned_objects
    lines.append(
        f"{len(results)} objects judged: {passed} passed, {warned_objects} warned, "
        f"{denied} denied{f', {undecided} undecided' if undecided else ''}; "
        f"{skipped} of other kinds skipped"
    )
    return "\n".join(lines) + "\n"


def structured(results: Sequence[verdicts.Result], *, skipped: int) -> dict[str, Any]:
    """The JSON/YAML document: every result with its merged ``findings``."""
    return {
        "results": [{**r, "findings": [f.as_dict() for f in verdicts.merged(r)]} for r in results],
        "skipped": skipped,
    }


def render(output: str, results: Sequence[verdicts.Result], *, skipped: int, fail_on: str) -> str:
    """``results`` in the ``output`` format (one of ``FORMATS``)."""
    if output == "json":
        return json.dumps(structured(results, skipped=skipped), indent=2) + "\n"
    if output == "yaml":
        return yaml.safe_dump(structured(results, skipped=skipped), sort_keys=False)
    if output == "sarif":
        return json.dumps(sarif.log(results, lines=fieldlines.Locator()), indent=2) + "\n"
    if output == "junit":
        cases = [
            junit.Case(
                suite=str(r["source"]),
                name=f"{verdicts.label(r)} ({verdicts.where(r)})",
                failed=verdicts.fails(r, fail_on=fail_on),
                summary=r["outcome"],
                details=tuple(f"[{f.action}] {f.line()}" for f in verdicts.merged(r)),
            )
            for r in results
        ]
        return junit.xml("bulkhead check", cases)
    return text(results, skipped=skipped)
