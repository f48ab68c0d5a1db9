"""``imageSignatures.vulnerabilities``: reading the settings, and the verdict on attestations."""

from __future__ import annotations

import datetime

import pytest

from webhook.policy import vulnerabilities
from webhook.rules import registry

PATH = "spec.rules.imageSignatures.vulnerabilities"
NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
TRUSTED = frozenset({"k1"})


def _problems(value: object) -> list[str]:
    with pytest.raises(registry.ConfigError) as caught:
        vulnerabilities.parse(value, PATH)
    return [str(p) for p in caught.value.problems]


def test_defaults_are_seven_days_and_high() -> None:
    settings = vulnerabilities.parse({}, PATH)
    assert settings.max_age == datetime.timedelta(days=7)
    assert settings.fail_on == "high"
    assert settings.allow == ()


def test_settings_are_read() -> None:
    settings = vulnerabilities.parse(
        {
            "maxAge": "1d12h",
            "failOnSeverity": "critical",
            "allow": [{"id": "cve-2024-1", "expires": "2027-01-31", "reason": "not reachable"}],
        },
        PATH,
    )
    assert settings.max_age == datetime.timedelta(hours=36)
    assert settings.fail_on == "critical"
    expires = datetime.datetime(2027, 2, 1, tzinfo=datetime.UTC)
    assert settings.allow == (vulnerabilities.Allowance("CVE-2024-1", expires),)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param({"maxAge": "7 days"}, f"{PATH}.maxAge: must be an age", id="age-words"),
        pytest.param({"maxAge": "0d"}, f"{PATH}.maxAge: must be above zero", id="age-zero"),
        pytest.param(
            {"failOnSeverity": "HIGH"},
            f'{PATH}.failOnSeverity: must be "negligible", "low", "medium", "high" or '
            '"critical", not the string "HIGH"; did you mean "high"?',
            id="severity",
        ),
        pytest.param({"allow": []}, f"{PATH}.allow: must be a non-empty list", id="allow-empty"),
        pytest.param(
            {"allow": [{"id": "CVE-1"}]},
            f"{PATH}.allow[0].expires: required: an accepted finding must expire",
            id="allow-no-expiry",
        ),
        pytest.param(
            {"allow": [{"id": "CVE-1", "expires": "soon"}]},
            f"{PATH}.allow[0].expires: must be a date",
            id="allow-bad-expiry",
        ),
        pytest.param({"maxDays": 3}, f"{PATH}.maxDays: unknown field", id="unknown-field"),
    ],
)
def test_bad_settings_name_the_field(value: object, expected: str) -> None:
    assert any(p.startswith(expected) for p in _problems(value)), _problems(value)


def _scan(
    age: datetime.timedelta, *found: tuple[str, str], key: str | None = "k1"
) -> vulnerabilities.Attestation:
    return vulnerabilities.Attestation(
        key=key,
        scanned=NOW - age,
        vulnerabilities=tuple(vulnerabilities.Vulnerability(i, s) for i, s in found),
    )


SETTINGS = vulnerabilities.Settings(
    allow=(
        vulnerabilities.Allowance("CVE-2024-1", NOW + HOUR),
        vulnerabilities.Allowance("CVE-2024-2", NOW - HOUR),
    )
)


@pytest.mark.parametrize(
    ("attestations", "expected"),
    [
        pytest.param(None, "were not checked", id="not-looked-up"),
        pytest.param((), "has no vulnerability attestation in its registry", id="none"),
        pytest.param(
            (vulnerabilities.Attestation(key=None, problem="made with another key"),),
            "no vulnerability attestation by a trusted key: made with another key",
            id="other-key",
        ),
        pytest.param(
            (_scan(HOUR, key="k2"),),
            "no vulnerability attestation by a trusted key: an attestation is by a key this "
            "policy does not trust",
            id="key-of-another-policy",
        ),
        pytest.param((_scan(datetime.timedelta(days=8)),), "longer ago than maxAge 7d", id="old"),
        pytest.param((_scan(-HOUR),), "claims to finish in the future", id="future"),
        pytest.param(
            (_scan(HOUR, ("CVE-9", "critical"), ("CVE-8", "low")),),
            "1 finding(s) at or above high: CVE-9 (critical)",
            id="critical",
        ),
        pytest.param(
            (_scan(HOUR, ("CVE-7", "unknown")),), "CVE-7 (unknown)", id="unknown-counts-critical"
        ),
        pytest.param(
            (_scan(HOUR, ("CVE-2024-2", "high")),),
            "the allow entry for CVE-2024-2 expired at 2026-06-01T11:00:00Z",
            id="expired-allowance",
        ),
        pytest.param(
            (
                vulnerabilities.Attestation(
                    key="k1", scanned=NOW - HOUR, problem="scanner.result is of an unknown shape"
                ),
            ),
            "cannot be read: scanner.result is of an unknown shape",
            id="unknown-shape",
        ),
        pytest.param(
            (_scan(HOUR, ("CVE-9", "high")), _scan(2 * HOUR)),
            "CVE-9 (high)",
            id="the-newest-scan-counts",
        ),
    ],
)
def test_failing_attestations_say_why(
    attestations: tuple[vulnerabilities.Attestation, ...] | None, expected: str
) -> None:
    failure = vulnerabilities.verdict(SETTINGS, attestations, trusted=TRUSTED, now=NOW)
    assert failure is not None
    assert expected in failure.message


@pytest.mark.parametrize(
    "attestations",
    [
        pytest.param((_scan(HOUR),), id="clean"),
        pytest.param((_scan(HOUR, ("CVE-5", "medium"), ("CVE-6", "negligible")),), id="below"),
        pytest.param((_scan(HOUR, ("cve-2024-1", "critical")),), id="allowed"),
        pytest.param((_scan(2 * HOUR), _scan(HOUR * 300, ("CVE-9", "critical"))), id="newer"),
        pytest.param(
            (_scan(HOUR), vulnerabilities.Attestation(key=None, problem="x")), id="one-counts"
        ),
    ],
)
def test_passing_attestations(attestations: tuple[vulnerabilities.Attestation, ...]) -> None:
    assert vulnerabilities.verdict(SETTINGS, attestations, trusted=TRUSTED, now=NOW) is None


def test_age_is_measured_at_the_decision() -> None:
    attestations = (_scan(datetime.timedelta(days=6)),)
    assert vulnerabilities.verdict(SETTINGS, attestations, trusted=TRUSTED, now=NOW) is None
    later = NOW + datetime.timedelta(days=2)
    failure = vulnerabilities.verdict(SETTINGS, attestations, trusted=TRUSTED, now=later)
    assert failure is not None
    assert "maxAge 7d" in failure.message
