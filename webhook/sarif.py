"""SARIF 2.1.0 for code-scanning tools: the checks as rules, one result per finding.

One run of the ``bulkhead`` tool. ``tool.driver.rules`` describes every
check some result refers to, from the registries: Bulkhead's own rules
(``webhook.rules.RULES``: id, title, the fields read, the fix, severity) and
the Pod Security Standards checks (``webhook.profiles.CHECKS``, whose
findings carry the id ``pss/<check>``: the upstream reason as title,
baseline checks high and restricted ones medium). Severity is ``properties.security-severity``
(high 8.0, medium 5.5, low 3.0), as GitHub code scanning reads it.

Each merged finding (``webhook.verdicts``: one per field path of one object,
every policy that reported it listed) is one result whose ``level`` follows
the strongest policy action (Deny: error, Warn: warning, Audit: note), with
the file, the line and column of the field where the file can be read again
(``webhook.fieldlines``; not for standard input), and the field path as a
logical location. No I/O of its own: ``fieldlines`` reads the files.
"""

from __future__ import annotations

import hashlib
import pathlib
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, Final

import webhook
from webhook import fieldlines, policy, profiles, rules, verdicts
from webhook.rules import registry

VERSION: Final = "2.1.0"
SCHEMA: Final = "https://json.schemastore.org/sarif-2.1.0.json"
PSS_DOCS: Final = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
SECURITY_SEVERITY: Final[Mapping[str, str]] = {"high": "8.0", "medium": "5.5", "low": "3.0"}
LEVELS: Final[Mapping[str, str]] = {"Deny": "error", "Warn": "warning", "Audit": "note"}
PSS_SEVERITY: Final[Mapping[str, str]] = {"baseline": "high", "restricted": "medium"}


#: The checks of ``spec.rules`` described beside the rule registry (they judge with evidence).
_EVIDENCE_CHECKS: Final[Mapping[str, registry.Described]] = {
    policy.network_policy.ID: policy.network_policy.DESCRIBED
}


def rule_id(finding: verdicts.Finding) -> str:
    """The SARIF rule of a finding: its first check id (``pss/<check>`` for a profile's)."""
    return finding.checks[0]


def _descriptor(identifier: str, finding: verdicts.Finding) -> dict[str, Any]:
    check = finding.checks[0]
    upstream = check.removeprefix(policy.POD_SECURITY_PREFIX)
    rule = rules.RULES.get(check) or _EVIDENCE_CHECKS.get(check)
    standard = profiles.CHECKS.get(upstream) if upstream != check else None
    severity: str
    if rule is not None:
        title, severity, help_text = rule.title, rule.severity, rule.fix
        full = f"{rule.title}. Fields read: {', '.join(rule.fields)}."
        tags = ["security", "kubernetes", "bulkhead"]
    elif standard is not None:
        title = f"Pod Security Standards ({standard.level}): {standard.reason}"
        severity = PSS_SEVERITY[standard.level]
        help_text = f"{finding.fix[:1].upper()}{finding.fix[1:]}. See {PSS_DOCS}"
        full = f"{title}, as upstream Pod Security Admission enforces it."
        tags = ["security", "kubernetes", "pod-security-standards", standard.level]
    else:
        title, severity, help_text, full = check, "medium", finding.fix, check
        tags = ["security", "kubernetes"]
    descriptor: dict[str, Any] = {
        "id": identifier,
        "name": check,
        "shortDescription": {"text": title},
        "fullDescription": {"text": full},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": tags,
            "severity": severity,
            "security-severity": SECURITY_SEVERITY[severity],
        },
    }
    if standard is not None:
        descriptor["helpUri"] = PSS_DOCS
    return descriptor


def uri(source: str) -> str:
    """A URI reference for a source path: relative stays relative, absolute is ``file://``."""
    path = pathlib.PurePath(source)
    if path.is_absolute():
        return pathlib.Path(source).as_uri()
    return urllib.parse.quote(path.as_posix())


def _result(
    r: verdicts.Result,
    finding: verdicts.Finding,
    *,
    rule_index: int,
    lines: fieldlines.Locator,
) -> dict[str, Any]:
    identifier = rule_id(finding)
    subject = f"{r['kind']}/{r['namespace']}/{r['name']}"
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri(str(r["source"]))}}
    position = lines.position(
        str(r["source"]), document=int(r["document"]), item=r.get("item"), path=finding.path
    )
    if position is not None:
        physical["region"] = {"startLine": position.line, "startColumn": position.column}
    digest = hashlib.sha256(f"{subject}\0{finding.path}\0{identifier}".encode()).hexdigest()
    return {
        "ruleId": identifier,
        "ruleIndex": rule_index,
        "level": LEVELS.get(finding.action, "error"),
        "message": {
            "text": f"{verdicts.label(r)}: {finding.path}: {finding.message}. Fix: {finding.fix} "
            f"(policy {', '.join(finding.policies)}; checks {', '.join(finding.checks)})"
        },
        "locations": [
            {
                "physicalLocation": physical,
                "logicalLocations": [
                    {
                        "name": finding.path,
                        "fullyQualifiedName": f"{subject}/{finding.path}",
                        "kind": "property",
                    }
                ],
            }
        ],
        "partialFingerprints": {"bulkheadFinding/v1": digest},
        "properties": {
            "object": subject,
            "document": r["document"],
            "path": finding.path,
            "checks": list(finding.checks),
            "policies": list(finding.policies),
            "action": finding.action,
            "exactLine": position.exact if position is not None else False,
        },
    }


def log(results: Sequence[verdicts.Result], *, lines: fieldlines.Locator) -> dict[str, Any]:
    """The SARIF log of ``results``: one run, its rules, one result per merged finding."""
    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for r in results:
        for finding in verdicts.merged(r):
            identifier = rule_id(finding)
            if identifier not in index:
                index[identifier] = len(descriptors)
                descriptors.append(_descriptor(identifier, finding))
            out.append(_result(r, finding, rule_index=index[identifier], lines=lines))
    return {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "bulkhead",
                        "version": webhook.__version__,
                        "semanticVersion": webhook.__version__,
                        "rules": descriptors,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": out,
            }
        ],
    }
