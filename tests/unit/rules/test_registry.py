"""The registry validates itself: ids, descriptions, schemas and severities."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from webhook import rules
from webhook.rules import openapi, registry

GOOD = rules.RULES["privileged"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"id": "No-Camel"}, "not camelCase", id="bad-id"),
        pytest.param({"fix": ""}, "needs a title, fields and a fix", id="no-fix"),
        pytest.param({"schema": {"type": "boolean"}}, "described schema", id="bare-schema"),
        pytest.param({"severity": "urgent"}, "unknown severity", id="bad-severity"),
    ],
)
def test_build_refuses_incomplete_rules(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        registry.build([dataclasses.replace(GOOD, **changes)])


def test_build_refuses_duplicate_ids() -> None:
    with pytest.raises(ValueError, match="duplicate rule id 'privileged'"):
        registry.build([GOOD, GOOD])


def test_value_schema_adds_title_and_fields_to_the_description() -> None:
    rule = dataclasses.replace(
        GOOD, title="T", fields=("spec.a", "spec.b"), schema=openapi.switch(on=False, meaning="m")
    )
    assert rule.value_schema() == {
        "type": "boolean",
        "description": "T. false: m; true: not checked. Checks spec.a, spec.b.",
    }
