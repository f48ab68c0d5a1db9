"""A policy's status from the compile step: Ready, Invalid, observedGeneration, transitions,
and the exclusions block (expiring within the window, expired), soonest first."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tests.unit.policy import test_signatures
from webhook.operator import status

NOW = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.UTC)
LATER = NOW + datetime.timedelta(minutes=5)


def _policy(spec: dict[str, Any], *, generation: int = 1, current: Any = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": "p", "generation": generation},
        "spec": spec,
    }
    if current is not None:
        document["status"] = current
    return document


def test_valid_policy_is_ready() -> None:
    outcome = status.desired(_policy({"profile": {"level": "baseline"}}), latest_minor=35, now=NOW)
    assert outcome.ready
    assert outcome.transitioned
    assert outcome.status["observedGeneration"] == 1
    (condition,) = outcome.status["conditions"]
    assert condition == {
        "type": "Ready",
        "status": "True",
        "reason": "Compiled",
        "message": "ClusterContainerPolicy/p: Deny, profile baseline:latest",
        "lastTransitionTime": "2030-01-01T12:00:00Z",
        "observedGeneration": 1,
    }


def test_invalid_policy_lists_every_problem_with_its_path() -> None:
    spec = {"rules": {"hostPath": {"allowedPrefixes": ["relative"]}, "hostPorts": "yes"}}
    outcome = status.desired(_policy(spec, generation=4), latest_minor=35, now=NOW)
    assert not outcome.ready
    (condition,) = outcome.status["conditions"]
    assert condition["status"] == "False"
    assert condition["reason"] == "Invalid"
    lines = condition["message"].splitlines()
    assert any(line.startswith("spec.rules.hostPath.allowedPrefixes[0]: ") for line in lines)
    assert any(line.startswith("spec.rules.hostPorts: ") for line in lines)
    assert outcome.status["observedGeneration"] == 4


def test_transition_time_moves_only_when_the_status_flips() -> None:
    first = status.desired(_policy({"profile": {"level": "baseline"}}), latest_minor=35, now=NOW)
    edited = _policy({"profile": {"level": "restricted"}}, generation=2, current=first.status)
    second = status.desired(edited, latest_minor=35, now=LATER)
    assert not second.transitioned
    assert second.status["conditions"][0]["lastTransitionTime"] == "2030-01-01T12:00:00Z"
    assert second.status["observedGeneration"] == 2
    assert status.needs_patch(first.status, second)

    broken = _policy({"rules": {"hostPorts": "yes"}}, generation=3, current=second.status)
    third = status.desired(broken, latest_minor=35, now=LATER)
    assert third.transitioned
    assert third.status["conditions"][0]["lastTransitionTime"] == "2030-01-01T12:05:00Z"


def test_unchanged_status_needs_no_patch() -> None:
    first = status.desired(_policy({"profile": {"level": "baseline"}}), latest_minor=35, now=NOW)
    again = status.desired(
        _policy({"profile": {"level": "baseline"}}, current=first.status),
        latest_minor=35,
        now=LATER,
    )
    assert not status.needs_patch(first.status, again)
    assert status.needs_patch(None, again)
    assert status.needs_patch({}, again)


def test_long_messages_are_truncated_to_the_crd_limit() -> None:
    spec = {
        "match": {"namespaces": [f"Bad{i}" for i in range(3000)]},
        "rules": {"privileged": False},
    }
    outcome = status.desired(_policy(spec), latest_minor=35, now=NOW)
    assert len(outcome.message) <= status.MAX_MESSAGE
    assert outcome.message.endswith("(truncated)")


# -- exclusions that expire ----------------------------------------------------------

MARCH = datetime.datetime(2027, 3, 1, 12, 0, tzinfo=datetime.UTC)


def _excluding(*expires: str | None) -> dict[str, Any]:
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
def test_exclusions_block(expires: tuple[str | None, ...], block: dict[str, Any] | None) -> None:
    outcome = status.desired(_excluding(*expires), latest_minor=35, now=MARCH)
    assert outcome.ready
    assert outcome.status.get("exclusions") == block


def test_window_is_a_setting_and_a_vanished_list_is_removed_by_the_patch() -> None:
    document = _excluding("2027-03-20")
    wide = status.desired(
        document, latest_minor=35, now=MARCH, expiry_window=datetime.timedelta(days=30)
    )
    assert status.exclusions_patch(wide) == {
        "expiring": [{"index": 0, "expires": "2027-03-21T00:00:00Z", "reason": "r0"}],
        "expired": None,
    }
    narrow = status.desired(document, latest_minor=35, now=MARCH)
    assert status.exclusions_patch(narrow) is None
    document["status"] = wide.status
    assert status.needs_patch(document["status"], narrow)


def test_earliest_expiry_includes_expired_entries() -> None:
    outcome = status.desired(
        _excluding("2027-05-01", "2020-01-01", None), latest_minor=35, now=MARCH
    )
    assert outcome.earliest_expiry == datetime.datetime(2020, 1, 2, tzinfo=datetime.UTC)
    assert status.desired(_excluding(None), latest_minor=35, now=MARCH).earliest_expiry is None


REFERENCE = {"namespace": "sigstore", "name": "release", "key": "cosign.pub"}
SIGNED = {"rules": {"imageSignatures": {"keySecrets": [REFERENCE]}}}


def test_unresolved_key_secret_is_not_ready_naming_the_secret_and_key() -> None:
    missing = [{**REFERENCE, "error": "Secret sigstore/release not found"}]
    outcome = status.desired(_policy(SIGNED), latest_minor=35, now=NOW, trusted_keys=missing)
    assert not outcome.ready
    assert outcome.reason == "KeysUnresolved"
    assert outcome.message == (
        "the key Secret sigstore/release key cosign.pub is not resolved: "
        "Secret sigstore/release not found"
    )
    assert outcome.status["trustedKeys"] == missing
    assert status.patch(outcome)["trustedKeys"] == missing


def test_resolved_keys_make_it_ready_and_a_rotation_needs_a_patch() -> None:
    first = [{**REFERENCE, "keyId": test_signatures.KEY_ID, "pem": test_signatures.PEM}]
    outcome = status.desired(_policy(SIGNED), latest_minor=35, now=NOW, trusted_keys=first)
    assert outcome.ready
    assert outcome.reason == "Compiled"
    written = _policy(SIGNED, current=outcome.status)
    # The sweep re-reads the same key: nothing to write; without a reading, status is kept.
    again = status.desired(written, latest_minor=35, now=LATER, trusted_keys=first)
    assert not status.needs_patch(written["status"], again)
    assert not status.needs_patch(
        written["status"], status.desired(written, latest_minor=35, now=LATER)
    )
    rotated = [{**REFERENCE, "keyId": test_signatures.KEY_2_ID, "pem": test_signatures.PEM_2}]
    outcome = status.desired(written, latest_minor=35, now=LATER, trusted_keys=rotated)
    assert outcome.ready
    assert status.needs_patch(written["status"], outcome)
    assert status.patch(outcome)["trustedKeys"] == rotated


def test_key_secrets_removed_from_the_spec_removes_them_from_status() -> None:
    resolved = [{**REFERENCE, "keyId": test_signatures.KEY_ID, "pem": test_signatures.PEM}]
    current = status.desired(_policy(SIGNED), latest_minor=35, now=NOW, trusted_keys=resolved)
    inline = {"rules": {"imageSignatures": {"keys": [test_signatures.PEM]}}}
    outcome = status.desired(
        _policy(inline, generation=2, current=current.status),
        latest_minor=35,
        now=LATER,
        trusted_keys=[],
    )
    assert outcome.ready
    assert "trustedKeys" not in outcome.status
    assert status.patch(outcome)["trustedKeys"] is None  # the merge patch deletes it
