"""Policy status: the exemptions block (expiring within the window, expired), soonest first."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from webhook.operator import status

NOW = datetime.datetime(2027, 3, 1, 12, 0, tzinfo=datetime.UTC)


def _policy(*expires: str | None) -> dict[str, Any]:
    exclude: list[dict[str, Any]] = []
    for n, when in enumerate(expires):
        entry: dict[str, Any] = {"namespaces": [f"ns{n}"], "reason": f"r{n}"}
        if when is not None:
            entry["expires"] = when
        exclude.append(entry)
    return {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": "p", "generation": 1},
        "spec": {"rules": {"privileged": False}, "exclude": exclude},
    }


@pytest.mark.parametrize(
    ("expires", "block"),
    [
        pytest.param((None,), None, id="undated-never-listed"),
        pytest.param(("2027-06-01",), None, id="beyond-the-window"),
        pytest.param(
            ("2027-03-10",),
            {"expiring": [{"index": 0, "expires": "2027-03-11T00:00:00Z", "reason": "r0"}]},
            id="a-date-runs-through-its-day",
        ),
        pytest.param(
            ("2027-03-01T12:00:00Z", "2027-02-01"),
            {
                "expired": [
                    {"index": 1, "expires": "2027-02-02T00:00:00Z", "reason": "r1"},
                    {"index": 0, "expires": "2027-03-01T12:00:00Z", "reason": "r0"},
                ]
            },
            id="expired-at-the-instant-oldest-first",
        ),
        pytest.param(
            ("2027-03-14T00:00:00Z", "2027-03-02T00:00:00Z", "2020-01-01", None),
            {
                "expiring": [
                    {"index": 1, "expires": "2027-03-02T00:00:00Z", "reason": "r1"},
                    {"index": 0, "expires": "2027-03-14T00:00:00Z", "reason": "r0"},
                ],
                "expired": [{"index": 2, "expires": "2020-01-02T00:00:00Z", "reason": "r2"}],
            },
            id="both-soonest-first",
        ),
    ],
)
def test_exemptions_block(expires: tuple[str | None, ...], block: dict[str, Any] | None) -> None:
    outcome = status.desired(_policy(*expires), latest_minor=35, now=NOW)
    assert outcome.ready
    assert outcome.status.get("exemptions") == block


def test_window_is_a_setting_and_a_vanished_list_is_removed_by_the_patch() -> None:
    document = _policy("2027-03-20")
    wide = status.desired(
        document, latest_minor=35, now=NOW, expiry_window=datetime.timedelta(days=30)
    )
    assert status.exemptions_patch(wide) == {
        "expiring": [{"index": 0, "expires": "2027-03-21T00:00:00Z", "reason": "r0"}],
        "expired": None,
    }
    narrow = status.desired(document, latest_minor=35, now=NOW)
    assert status.exemptions_patch(narrow) is None
    document["status"] = wide.status
    assert status.needs_patch(document["status"], narrow)


def test_earliest_expiry_includes_expired_entries() -> None:
    outcome = status.desired(_policy("2027-05-01", "2020-01-01", None), latest_minor=35, now=NOW)
    assert outcome.earliest_expiry == datetime.datetime(2020, 1, 2, tzinfo=datetime.UTC)
    assert status.desired(_policy(None), latest_minor=35, now=NOW).earliest_expiry is None
