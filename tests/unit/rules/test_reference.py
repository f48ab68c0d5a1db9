"""``docs/rules.md`` is what ``tools/rules_reference.py`` generates from the registry now."""

from __future__ import annotations

import pathlib
import subprocess
import sys

from webhook import rules

REPO = pathlib.Path(__file__).resolve().parents[3]


def test_rules_reference_is_current() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "rules_reference.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_rules_reference_has_a_section_per_rule() -> None:
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule_id, rule in rules.RULES.items():
        assert f"## `{rule_id}`" in text
        assert rule.fix in text
