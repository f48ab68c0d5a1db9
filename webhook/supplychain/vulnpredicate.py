"""Reading cosign's vulnerability predicate into facts. Pure, no I/O.

The predicate (``https://cosign.sigstore.dev/attestation/vuln/v1``) is what
``cosign attest --type vuln --predicate FILE`` puts in the in-toto statement::

    {"invocation": {...},
     "scanner": {"uri": ..., "version": ..., "db": {...}, "result": <the scan>},
     "metadata": {"scanStartedOn": "<RFC 3339>", "scanFinishedOn": "<RFC 3339>"}}

The scan's time is ``metadata.scanFinishedOn`` (what the result reflects:
the vulnerability database as of the end of the scan). ``scanner.result``
is free-form in cosign; these shapes are read, anything else is an unknown
shape (and the check denies):

* Trivy JSON (``trivy image --format json``): ``Results[].Vulnerabilities[]``
  with ``VulnerabilityID`` and ``Severity``; ``Results`` may be empty, and a
  result's ``Vulnerabilities`` missing or ``null`` (nothing found).
* Grype JSON (``grype -o json``): ``matches[].vulnerability`` with ``id``
  and ``severity``.
* SARIF 2.1.0 (``version`` ``2.1.0``, ``runs[]``): each of ``runs[].results[]``
  is a finding whose id is its ``ruleId``; its severity is from the rule's
  ``properties["security-severity"]`` (a CVSS score: 9.0 and above
  critical, 7.0 high, 4.0 medium, above 0 low, 0 negligible), else a
  severity word among the rule's ``properties.tags`` (Trivy writes one),
  else unknown.

Severities are lower-cased; a scanner's ``UNKNOWN`` or any word outside
``vulnerabilities.SEVERITIES`` stays as written and counts as critical.
An entry of a known shape without an id makes the whole result unreadable.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, Final

from webhook.policy import vulnerabilities

PREDICATE_TYPE: Final = "https://cosign.sigstore.dev/attestation/vuln/v1"
SHAPES: Final = (
    "Trivy JSON (Results[].Vulnerabilities[]), Grype JSON (matches[].vulnerability) "
    "or SARIF 2.1.0 (runs[].results[])"
)
#: CVSS score floors of each severity, highest first (as GitHub code scanning maps them).
_CVSS: Final = ((9.0, "critical"), (7.0, "high"), (4.0, "medium"), (0.1, "low"))


class UnreadableError(ValueError):
    """The predicate or its scan result cannot be read; the message says where."""


def _severity(value: object) -> str:
    return value.strip().lower() if isinstance(value, str) and value.strip() else "unknown"


def _ident(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UnreadableError(f"{where} has no vulnerability id")
    return value.strip()


def _list(value: object, where: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise UnreadableError(f"{where} is not a list")
    return value


def _entry(item: object, at: str, *, ident: str, severity: str) -> vulnerabilities.Vulnerability:
    """The finding an object of a scan's list describes by its fields ``ident`` and ``severity``."""
    if not isinstance(item, Mapping):
        raise UnreadableError(f"{at} is not an object")
    return vulnerabilities.Vulnerability(_ident(item.get(ident), at), _severity(item.get(severity)))


def _trivy(result: Mapping[str, Any]) -> list[vulnerabilities.Vulnerability]:
    found: list[vulnerabilities.Vulnerability] = []
    for index, target in enumerate(_list(result["Results"], "Results")):
        where = f"Results[{index}]"
        if not isinstance(target, Mapping):
            raise UnreadableError(f"{where} is not an object")
        listed = target.get("Vulnerabilities")
        for number, item in enumerate(_list(listed, f"{where}.Vulnerabilities") if listed else ()):
            at = f"{where}.Vulnerabilities[{number}]"
            found.append(_entry(item, at, ident="VulnerabilityID", severity="Severity"))
    return found


def _grype(result: Mapping[str, Any]) -> list[vulnerabilities.Vulnerability]:
    found: list[vulnerabilities.Vulnerability] = []
    for index, match in enumerate(_list(result["matches"], "matches")):
        at = f"matches[{index}].vulnerability"
        vulnerability = match.get("vulnerability") if isinstance(match, Mapping) else None
        found.append(_entry(vulnerability, at, ident="id", severity="severity"))
    return found


def _sarif_rule_severity(rule: Mapping[str, Any]) -> str:
    properties = rule.get("properties")
    if not isinstance(properties, Mapping):
        return "unknown"
    score = properties.get("security-severity")
    try:
        value = float(score) if isinstance(score, str | int | float) else None
    except ValueError:
        value = None
    if value is not None:
        return next((name for floor, name in _CVSS if value >= floor), "negligible")
    tags = properties.get("tags")
    words = {t.lower() for t in tags if isinstance(t, str)} if isinstance(tags, list) else set()
    ranked = [s for s in vulnerabilities.SEVERITIES if s in words]
    return ranked[-1] if ranked else "unknown"


def _sarif(result: Mapping[str, Any]) -> list[vulnerabilities.Vulnerability]:
    found: list[vulnerabilities.Vulnerability] = []
    for index, run in enumerate(_list(result["runs"], "runs")):
        where = f"runs[{index}]"
        if not isinstance(run, Mapping):
            raise UnreadableError(f"{where} is not an object")
        driver = (
            run.get("tool", {}).get("driver", {}) if isinstance(run.get("tool"), Mapping) else {}
        )
        rules = driver.get("rules") if isinstance(driver, Mapping) else None
        severity_of = {
            rule["id"]: _sarif_rule_severity(rule)
            for rule in (rules if isinstance(rules, list) else ())
            if isinstance(rule, Mapping) and isinstance(rule.get("id"), str)
        }
        for number, item in enumerate(_list(run.get("results", []), f"{where}.results")):
            at = f"{where}.results[{number}]"
            if not isinstance(item, Mapping):
                raise UnreadableError(f"{at} is not an object")
            ident = _ident(item.get("ruleId"), at)
            found.append(vulnerabilities.Vulnerability(ident, severity_of.get(ident, "unknown")))
    return found


def findings(result: object) -> tuple[vulnerabilities.Vulnerability, ...]:
    """Every finding of a ``scanner.result``; ``UnreadableError`` for an unknown shape."""
    if isinstance(result, Mapping):
        if "Results" in result:
            return tuple(_trivy(result))
        if "matches" in result:
            return tuple(_grype(result))
        if "runs" in result and result.get("version") == "2.1.0":
            return tuple(_sarif(result))
    raise UnreadableError(f"scanner.result is of an unknown shape: expected {SHAPES}")


def finished(predicate: Mapping[str, Any]) -> datetime.datetime:
    """``metadata.scanFinishedOn`` as an aware instant; ``UnreadableError`` if missing or bad."""
    metadata = predicate.get("metadata")
    text = metadata.get("scanFinishedOn") if isinstance(metadata, Mapping) else None
    if not isinstance(text, str):
        raise UnreadableError("metadata.scanFinishedOn is missing")
    try:
        instant = datetime.datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError as err:
        raise UnreadableError(f"metadata.scanFinishedOn {text[:40]!r} is not a time") from err
    if instant.tzinfo is None:
        raise UnreadableError(f"metadata.scanFinishedOn {text[:40]!r} has no time zone")
    return instant


def read(predicate: object, *, key: str) -> vulnerabilities.Attestation:
    """The facts of a predicate signed with trusted key ``key``.

    A predicate without a readable scan time does not count (``key`` is
    ``None``); one with a time but an unreadable result counts, with the
    problem, so that as the newest scan it denies.
    """
    if not isinstance(predicate, Mapping):
        return vulnerabilities.Attestation(key=None, problem="a predicate is not a JSON object")
    try:
        scanned = finished(predicate)
    except UnreadableError as err:
        return vulnerabilities.Attestation(key=None, problem=f"an attestation's {err}")
    scanner = predicate.get("scanner")
    try:
        if not isinstance(scanner, Mapping):
            raise UnreadableError("scanner is missing")
        found = findings(scanner.get("result"))
    except UnreadableError as err:
        return vulnerabilities.Attestation(key=key, problem=str(err), scanned=scanned)
    return vulnerabilities.Attestation(key=key, scanned=scanned, vulnerabilities=found)
