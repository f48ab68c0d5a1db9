"""``imageSignatures.vulnerabilities``: a signed, recent, clean vulnerability scan. Pure, no I/O.

A policy that verifies signatures may also require, for each image digest, a
cosign vulnerability attestation (``cosign attest --type vuln``) signed by
one of the same trusted keys::

    imageSignatures:
      keys: [...]
      vulnerabilities:
        maxAge: 7d               # the scan finished at most this long ago (d, h or m)
        failOnSeverity: high     # any finding at or above this severity denies
        allow:                   # findings accepted until their expiry
          - id: CVE-2024-12345
            expires: 2027-01-31  # a date (through that day, UTC) or RFC 3339
            reason: not reachable in our build

Severities, lowest first: ``negligible``, ``low``, ``medium``, ``high``,
``critical``. A finding whose severity the scanner did not know, or that
Bulkhead cannot read, counts as ``critical`` (fail closed): allow-list it
by id to accept it.

The I/O layer (``webhook.supplychain.attestations``) finds the attestations
of the digest, verifies their DSSE signatures and reads each predicate into
an ``Attestation``: the facts, never a verdict. ``verdict`` judges them at
the time of the decision: the newest attestation by a trusted key counts
(by ``metadata.scanFinishedOn``), so a rescan replaces an older result, and
its age is measured against the clock of every decision.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Collection, Sequence
from typing import Final

from webhook.rules import config, openapi, registry

FIELDS: Final = ("maxAge", "failOnSeverity", "allow")
ALLOW_FIELDS: Final = ("id", "expires", "reason")
#: Severities, lowest first; anything else a scanner reports counts as the highest.
SEVERITIES: Final = ("negligible", "low", "medium", "high", "critical")
UNKNOWN: Final = "unknown"
DEFAULT_MAX_AGE: Final = datetime.timedelta(days=7)
DEFAULT_FAIL_ON: Final = "high"
#: A scan that finished up to this far in the future still counts (clock skew).
CLOCK_SKEW: Final = datetime.timedelta(minutes=5)
#: Findings named in one message; the rest are counted.
_SHOWN: Final = 5
_AGE: Final = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
_AGE_PATTERN: Final = r"^([0-9]+d)?([0-9]+h)?([0-9]+m)?$"

FIX_ATTEST: Final = (
    "scan the image digest and attest the result with a trusted key "
    "(cosign attest --type vuln --predicate scan.json --key ...)"
)
FIX_RESCAN: Final = "scan the image again and attest the new result with a trusted key"
FIX_FINDINGS: Final = (
    "rebuild the image with fixed packages and attest a new scan, or accept a finding "
    "for a while with an entry under imageSignatures.vulnerabilities.allow (id and expires)"
)


@dataclasses.dataclass(frozen=True, slots=True)
class Vulnerability:
    """One finding of a scan: its id (``CVE-2024-12345``) and its severity (lower case)."""

    id: str
    severity: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Attestation:
    """What one vulnerability attestation of an image digest says, as the I/O layer read it.

    ``key`` is the trusted key id its DSSE signature verifies with and whose
    statement names the image's digest, else ``None`` with ``problem`` saying
    why it does not count. A counted attestation with a ``problem`` has a
    result that cannot be read (an unknown shape); ``scanned`` is its
    ``metadata.scanFinishedOn``.
    """

    key: str | None
    problem: str = ""
    scanned: datetime.datetime | None = None
    vulnerabilities: tuple[Vulnerability, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Allowance:
    """A finding accepted (by id) until ``expires``."""

    id: str
    expires: datetime.datetime


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """A policy's ``spec.rules.imageSignatures.vulnerabilities``."""

    max_age: datetime.timedelta = DEFAULT_MAX_AGE
    fail_on: str = DEFAULT_FAIL_ON
    allow: tuple[Allowance, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Failure:
    """Why an image fails the vulnerability requirement, and how to fix it."""

    message: str
    fix: str


#: The OpenAPI schema of ``spec.rules.imageSignatures.vulnerabilities``.
SCHEMA: Final[openapi.Schema] = openapi.obj(
    "Each image digest also needs a cosign vulnerability attestation (predicate type "
    "https://cosign.sigstore.dev/attestation/vuln/v1) signed by one of the trusted keys: "
    "its newest scan recent enough and without findings at or above failOnSeverity.",
    {
        "maxAge": openapi.string(
            "The newest scan (metadata.scanFinishedOn) finished at most this long ago: "
            "days, hours and minutes, e.g. 7d, 36h, 1d12h (default 7d).",
            pattern=_AGE_PATTERN,
            minLength=2,
        ),
        "failOnSeverity": openapi.string(
            "A finding at or above this severity denies (default high); findings of "
            "unknown severity count as critical.",
            enum=list(SEVERITIES),
        ),
        "allow": openapi.array(
            "Findings accepted until they expire, by id.",
            openapi.obj(
                "One accepted finding.",
                {
                    "id": openapi.string(
                        "The vulnerability id as the scanner reports it (CVE-2024-12345).",
                        minLength=1,
                    ),
                    "expires": openapi.string(
                        "When the entry stops allowing: a date (2027-01-31, through that day, "
                        "UTC) or an RFC 3339 timestamp.",
                        pattern=config.EXPIRY_PATTERN,
                    ),
                    "reason": openapi.string("Why the finding is accepted."),
                },
                required=("id", "expires"),
            ),
        ),
    },
)


def rank(severity: str) -> int:
    """The order of a severity; unknown ones rank with ``critical``."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        return len(SEVERITIES) - 1


def _age(value: object, path: str, problems: config.Problems) -> datetime.timedelta:
    found = _AGE.match(value) if isinstance(value, str) and value else None
    if found is None or not any(found.groups()):
        problems.append(
            registry.Problem(
                path,
                "must be an age in days, hours and minutes such as 7d, 36h or 1d12h, "
                f"not {config.describe(value)}",
            )
        )
        return DEFAULT_MAX_AGE
    days, hours, minutes = (int(part or 0) for part in found.groups())
    age = datetime.timedelta(days=days, hours=hours, minutes=minutes)
    if not age:
        problems.append(registry.Problem(path, "must be above zero: no scan could ever pass"))
    return age


def _allowances(value: object, path: str, problems: config.Problems) -> tuple[Allowance, ...]:
    if not isinstance(value, list) or not value:
        problems.append(
            registry.Problem(path, f"must be a non-empty list, not {config.describe(value)}")
        )
        return ()
    found: list[Allowance] = []
    for index, item in enumerate(value):
        at = f"{path}[{index}]"
        entry = config.mapping(item, path=at, allowed=ALLOW_FIELDS, problems=problems)
        if entry is None:
            continue
        ident = config.string(entry.get("id"), path=f"{at}.id", problems=problems)
        if entry.get("expires") is None:
            problems.append(
                registry.Problem(f"{at}.expires", "required: an accepted finding must expire")
            )
            continue
        expires = config.expiry(entry["expires"], f"{at}.expires", problems=problems)
        if entry.get("reason") is not None:
            config.string(entry["reason"], path=f"{at}.reason", problems=problems)
        if ident is not None and expires is not None:
            found.append(Allowance(id=ident.strip().upper(), expires=expires))
    return tuple(found)


def parse(value: object, path: str) -> Settings:
    """Read ``imageSignatures.vulnerabilities``; ``registry.ConfigError`` lists every problem."""
    problems: config.Problems = []
    spec = config.mapping(value, path=path, allowed=FIELDS, problems=problems)
    if spec is None:
        raise registry.ConfigError(problems)
    max_age = DEFAULT_MAX_AGE
    if spec.get("maxAge") is not None:
        max_age = _age(spec["maxAge"], f"{path}.maxAge", problems)
    fail_on = DEFAULT_FAIL_ON
    if spec.get("failOnSeverity") is not None:
        raw = spec["failOnSeverity"]
        if isinstance(raw, str) and raw in SEVERITIES:
            fail_on = raw
        else:
            problems.append(
                registry.Problem(
                    f"{path}.failOnSeverity",
                    f"must be {config.one_of(SEVERITIES)}, not {config.describe(raw)}"
                    + (config.suggestion(raw, SEVERITIES) if isinstance(raw, str) else ""),
                )
            )
    allow: tuple[Allowance, ...] = ()
    if spec.get("allow") is not None:
        allow = _allowances(spec["allow"], f"{path}.allow", problems)
    config.raise_if_any(problems)
    return Settings(max_age=max_age, fail_on=fail_on, allow=allow)


def _when(instant: datetime.datetime) -> str:
    return instant.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _listed(found: Sequence[Vulnerability]) -> str:
    shown = ", ".join(f"{v.id} ({v.severity})" for v in found[:_SHOWN])
    more = len(found) - _SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _findings(settings: Settings, newest: Attestation, now: datetime.datetime) -> Failure | None:
    threshold = rank(settings.fail_on)
    live: dict[str, Allowance] = {}
    lapsed: dict[str, Allowance] = {}
    for entry in settings.allow:
        (live if now < entry.expires else lapsed)[entry.id] = entry
    blocking = [
        v
        for v in newest.vulnerabilities
        if rank(v.severity) >= threshold and v.id.upper() not in live
    ]
    if not blocking:
        return None
    expired = sorted({v.id.upper() for v in blocking} & set(lapsed))
    note = "".join(
        f"; the allow entry for {ident} expired at {_when(lapsed[ident].expires)}"
        for ident in expired
    )
    return Failure(
        f"its vulnerability scan has {len(blocking)} finding(s) at or above "
        f"{settings.fail_on}: {_listed(blocking)}{note}",
        FIX_FINDINGS,
    )


def verdict(
    settings: Settings,
    attestations: Sequence[Attestation] | None,
    *,
    trusted: Collection[str],
    now: datetime.datetime,
) -> Failure | None:
    """Why an image's attestations do not meet ``settings`` at ``now``, or ``None``.

    Only attestations verified with a key of ``trusted`` (key ids) count.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=datetime.UTC)
    if attestations is None:
        return Failure("its vulnerability attestations were not checked", FIX_ATTEST)
    counted = [(a.scanned, a) for a in attestations if a.key in trusted and a.scanned]
    if not counted:
        if not attestations:
            return Failure(
                "it has no vulnerability attestation in its registry "
                "(no attestation manifest tagged sha256-<digest>.att)",
                FIX_ATTEST,
            )
        problems = [a.problem for a in attestations if a.key is None and a.problem]
        if any(a.key is not None for a in attestations):
            problems.append("an attestation is by a key this policy does not trust")
        reasons = "; ".join(dict.fromkeys(problems))
        return Failure(
            f"it has no vulnerability attestation by a trusted key: {reasons}", FIX_ATTEST
        )
    scanned, newest = max(counted, key=lambda pair: pair[0])
    if newest.problem:
        return Failure(
            f"its newest vulnerability attestation (scan finished {_when(scanned)}) "
            f"cannot be read: {newest.problem}",
            FIX_RESCAN,
        )
    if scanned > now + CLOCK_SKEW:
        return Failure(
            f"its newest vulnerability scan claims to finish in the future ({_when(scanned)})",
            FIX_RESCAN,
        )
    if now - scanned > settings.max_age:
        return Failure(
            f"its newest vulnerability scan finished {_when(scanned)}, longer ago than "
            f"maxAge {_shown_age(settings.max_age)}",
            FIX_RESCAN,
        )
    return _findings(settings, newest, now)


def _shown_age(age: datetime.timedelta) -> str:
    minutes = int(age.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = ((days, "d"), (hours, "h"), (minutes, "m"))
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0m"
