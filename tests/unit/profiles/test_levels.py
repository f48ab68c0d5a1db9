"""Composing levels and resolving versions."""

from __future__ import annotations

import pytest

from tests.unit.profiles import pods
from webhook import profiles


@pytest.mark.parametrize(
    ("level", "version", "minor", "present", "absent"),
    [
        ("baseline", "v1.0", 0, {"hostPathVolumes", "seccompProfile_baseline"}, {"runAsNonRoot"}),
        ("restricted", "v1.0", 0, {"restrictedVolumes", "runAsNonRoot"}, {"hostPathVolumes"}),
        ("restricted", "v1.7", 7, {"runAsNonRoot"}, {"allowPrivilegeEscalation"}),
        ("restricted", "v1.18", 18, {"seccompProfile_baseline"}, {"seccompProfile_restricted"}),
        ("restricted", "v1.19", 19, {"seccompProfile_restricted"}, {"seccompProfile_baseline"}),
        ("restricted", "v1.21", 21, {"capabilities_baseline"}, {"capabilities_restricted"}),
        ("restricted", "v1.22", 22, {"capabilities_restricted"}, {"capabilities_baseline"}),
        ("restricted", "v1.34", 34, {"procMount", "hostProbesAndHostLifecycle"}, set()),
        ("restricted", "v1.35", 35, {"procMount_restricted"}, {"procMount"}),
        ("baseline", "v1.35", 35, {"procMount"}, {"procMount_restricted"}),
        ("restricted", "v1.36", 36, {"procMount_restricted"}, {"procMount"}),
        ("restricted", "v1.37", 37, {"procMount_restricted"}, {"procMount"}),
        ("restricted", "latest", 37, {"procMount_restricted"}, {"procMount"}),
        ("restricted", "v1.99", 37, {"runAsUser"}, set()),
        ("privileged", "latest", 37, set(), {"privileged", "hostNamespaces"}),
    ],
    ids=str,
)
def test_active_checks(
    level: str, version: str, minor: int, present: set[str], absent: set[str]
) -> None:
    profile = profiles.resolve(level, version)
    assert profile.minor == minor
    assert profile.label == f"{level}:{version}"
    assert present <= set(profile.check_ids)
    assert not absent & set(profile.check_ids)


def test_report_order_is_baseline_then_restricted_each_sorted() -> None:
    ids = profiles.resolve("restricted", "latest").check_ids
    levels = [profiles.CHECKS[i].level for i in ids]
    cut = levels.index("restricted")
    assert set(levels[cut:]) == {"restricted"}
    assert list(ids[:cut]) == sorted(ids[:cut])
    assert list(ids[cut:]) == sorted(ids[cut:])


NEWEST_SYSCTL = pods.pod(
    lambda s: s["securityContext"].update(
        sysctls=[{"name": "net.ipv4.tcp_slow_start_after_idle", "value": "0"}]
    )
)


def test_latest_is_a_setting_that_moves_only_latest() -> None:
    assert not profiles.resolve("baseline", "latest").evaluate(NEWEST_SYSCTL)
    assert profiles.resolve("baseline", "latest", latest_minor=35).evaluate(NEWEST_SYSCTL)
    assert profiles.resolve("baseline", "v1.35").evaluate(NEWEST_SYSCTL)
    pinned = profiles.resolve("baseline", "v1.37", latest_minor=35)
    assert pinned.minor == 37
    assert not pinned.evaluate(NEWEST_SYSCTL)


def test_only_versions_newer_than_bulkhead_knows_are_clamped() -> None:
    assert profiles.parse("baseline:v1.37").minor == 37
    assert profiles.parse("baseline:v1.36").minor == 36
    assert profiles.parse("baseline:v1.38").minor == profiles.NEWEST_MINOR == 37


@pytest.mark.parametrize(
    ("level", "version", "error"),
    [
        ("strict", "latest", "level 'strict'"),
        ("baseline", "v1.05", "'v1.05'"),
        ("baseline", "1.25", "'1.25'"),
        ("baseline", "v2.0", "'v2.0'"),
        ("baseline", "", "''"),
    ],
    ids=["unknown-level", "leading-zero", "no-v", "major-2", "empty"],
)
def test_bad_level_or_version(level: str, version: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        profiles.resolve(level, version)


def test_parse_defaults_to_latest() -> None:
    assert profiles.parse("restricted").version == "latest"
    assert profiles.parse("restricted:v1.30").minor == 30
