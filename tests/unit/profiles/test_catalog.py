"""The catalogue validates itself."""

from __future__ import annotations

import pytest

from webhook import profiles
from webhook.profiles import catalog


def _none(pod: object) -> list[object]:
    return []


def test_nineteen_checks() -> None:
    assert len(profiles.CHECKS) == 19
    assert profiles.NEWEST_MINOR == 37


@pytest.mark.parametrize(
    ("checks", "error"),
    [
        (
            [catalog.Check("a", "baseline", "a", (catalog.Variant(0, _none),))] * 2,
            "duplicate",
        ),
        ([catalog.Check("a", "strict", "a", (catalog.Variant(0, _none),))], "unknown level"),
        ([catalog.Check("a", "baseline", "a", ())], "no variants"),
        (
            [
                catalog.Check(
                    "a", "baseline", "a", (catalog.Variant(5, _none), catalog.Variant(3, _none))
                )
            ],
            "unsorted",
        ),
        (
            [catalog.Check("a", "restricted", "a", (catalog.Variant(0, _none),), overrides="b")],
            "overrides",
        ),
    ],
    ids=["duplicate", "bad-level", "no-variants", "unsorted", "unknown-override"],
)
def test_build_refuses(checks: list[catalog.Check], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        catalog.build(checks)


def test_check_at_version() -> None:
    check = profiles.CHECKS["allowPrivilegeEscalation"]
    assert check.at(7) is None
    assert check.at(8) is check.variants[0]
    assert check.at(99) is check.variants[-1]
