"""The built-in profiles against every upstream Pod Security Admission fixture.

Walks the whole vendored ``index.json`` (4,537 fixtures): each fixture is judged
at its own level and pinned version (with ``latest`` set to the newest version
the fixtures know), must get its expected verdict, and a denial must report the
check named in ``denied_by`` with the upstream reason text in its message. The
v1.37 fixtures run again as ``latest``. The vendored copy must stay identical
to the shared one when that is present.
"""

from __future__ import annotations

import filecmp
import json
import pathlib
from collections.abc import Mapping
from typing import Any

import pytest
import yaml

from webhook import profiles
from webhook.rules import podview

CORPUS = pathlib.Path(__file__).parent / "pod-security"
SHARED = pathlib.Path(__file__).parents[3] / "shared" / "conformance" / "pod-security"
INDEX: list[dict[str, Any]] = json.loads((CORPUS / "index.json").read_text())
NEWEST = f"v1.{profiles.NEWEST_MINOR}"


def _load(entry: Mapping[str, Any]) -> podview.PodView:
    pod = yaml.safe_load((CORPUS / entry["file"]).read_text())
    return podview.read(pod["spec"], metadata=pod["metadata"])


def _verdict(entry: Mapping[str, Any], version: str) -> list[str]:
    profile = profiles.resolve(entry["level"], version, latest_minor=profiles.NEWEST_MINOR)
    found = profile.evaluate(_load(entry))
    problems = []
    denied = bool(found)
    if denied != (entry["expect"] == "deny"):
        checks = sorted({f.check for f in found})
        problems.append(f"{entry['file']} at {version}: expected {entry['expect']}, got {checks}")
    if entry["expect"] == "deny" and denied:
        mine = [f for f in found if f.check == entry["denied_by"]]
        if not mine:
            problems.append(f"{entry['file']}: {entry['denied_by']} not reported")
        elif not any(entry["reason_substring"] in f.message for f in mine):
            problems.append(f"{entry['file']}: no {entry['reason_substring']!r} in message")
    return problems


def test_index_has_every_fixture() -> None:
    assert len(INDEX) == 4537
    files = {p.relative_to(CORPUS).as_posix() for p in (CORPUS / "testdata").rglob("*.yaml")}
    assert files == {e["file"] for e in INDEX}


@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_every_fixture_at_its_own_version(level: str) -> None:
    entries = [e for e in INDEX if e["level"] == level]
    problems = [p for e in entries for p in _verdict(e, e["version"])]
    assert problems == [], "\n".join(problems[:40])


def test_newest_fixtures_as_latest() -> None:
    entries = [e for e in INDEX if e["version"] == NEWEST]
    assert len(entries) == 148
    problems = [p for e in entries for p in _verdict(e, "latest")]
    assert problems == [], "\n".join(problems[:40])


def test_every_check_has_deny_fixtures() -> None:
    denied_by = {e["denied_by"] for e in INDEX if e["expect"] == "deny"}
    assert set(profiles.CHECKS) <= denied_by


@pytest.mark.skipif(not SHARED.is_dir(), reason="no shared corpus beside this clone")
def test_vendored_copy_matches_shared() -> None:
    comparison = filecmp.dircmp(CORPUS, SHARED)
    stack = [comparison]
    while stack:
        cmp = stack.pop()
        assert (cmp.left_only, cmp.right_only, cmp.diff_files) == ([], [], []), cmp.left
        stack.extend(cmp.subdirs.values())
