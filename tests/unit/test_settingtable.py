"""Settings declared once: flags, variables, defaults and the docs all come from the tables."""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys

import pytest

from webhook import cli, settingtable
from webhook.audit import command as audit_command
from webhook.audit import controller
from webhook.audit import settings as audit_settings
from webhook.operator import settings as operator_settings
from webhook.server import settings as server_settings

ROOT = pathlib.Path(__file__).parents[2]
TABLES = {
    "serve": server_settings.TABLE,
    "operator": operator_settings.TABLE,
    "audit": audit_settings.TABLE,
}


def test_the_docs_tables_are_generated_from_the_code() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "render_settings.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("page", ["docs/server.md", "docs/operator.md", "docs/audit.md"])
def test_every_flag_and_variable_is_on_its_page(page: str) -> None:
    command = {"docs/server.md": "serve", "docs/operator.md": "operator", "docs/audit.md": "audit"}
    text = (ROOT / page).read_text(encoding="utf-8")
    for row in TABLES[command[page]]:
        assert f"`{row.flag}" in text
        assert row.env is None or f"`{row.env}`" in text


def _subcommand(name: str) -> argparse.ArgumentParser:
    parser = cli._parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]  # type: ignore[no-any-return]
    raise AssertionError("no subcommands")


@pytest.mark.parametrize("command", sorted(TABLES))
def test_every_row_is_a_flag_of_its_command(command: str) -> None:
    parser = _subcommand(command)
    for row in TABLES[command]:
        given = [row.flag] if row.switch else [row.flag, row.choices[0] if row.choices else "x"]
        parsed = vars(parser.parse_args(given))
        assert parsed[row.name] not in (None, []), row.flag
        if row.env is not None:
            # not given, a flag backed by a variable stays None so the variable can fill it in
            assert vars(parser.parse_args([]))[row.name] is None, row.flag


@pytest.mark.parametrize(
    ("table", "name", "variable"),
    [
        (server_settings.TABLE, "policy_file", "BULKHEAD_POLICY_FILES"),
        (server_settings.TABLE, "profile", "BULKHEAD_PROFILES"),
        (server_settings.TABLE, "drain_grace", "BULKHEAD_DRAIN_GRACE"),
        (operator_settings.TABLE, "extra_san", "BULKHEAD_EXTRA_SANS"),
        (operator_settings.TABLE, "probe_endpoint", "BULKHEAD_PROBE_ENDPOINTS"),
        (audit_settings.TABLE, "max_results", "BULKHEAD_MAX_RESULTS"),
    ],
    ids=["policy files", "profiles", "plain name", "extra SANs", "probe endpoints", "audit"],
)
def test_variable_names(table: settingtable.Table, name: str, variable: str) -> None:
    assert table[name].env == variable


def test_the_declared_defaults_are_the_settings_defaults() -> None:
    required = {"tls_cert_file": "/c", "tls_private_key_file": "/k", "profile": ["restricted"]}
    served = server_settings.resolve(required, {})
    assert served == server_settings.Settings(
        tls_cert_file="/c",
        tls_private_key_file="/k",
        profiles=("restricted",),
        workers=server_settings.usable_cpus(),
    )
    operated = operator_settings.resolve({}, {})
    assert operated == operator_settings.Settings()
    assert audit_command.settings({}, {}) == controller.Settings()


def test_a_variable_fills_in_and_a_flag_wins() -> None:
    table = server_settings.TABLE
    assert table.pick("port", {}, {}, int) == 8443
    assert table.pick("port", {}, {"BULKHEAD_PORT": "9443"}, int) == 9443
    assert table.pick("port", {"port": "10443"}, {"BULKHEAD_PORT": "9443"}, int) == 10443
    assert table.items("profile", {}, {"BULKHEAD_PROFILES": "a, ,b"}) == ("a", "b")


def test_a_bad_value_names_the_flag_and_the_variable() -> None:
    with pytest.raises(settingtable.SettingsError, match="--max-results / BULKHEAD_MAX_RESULTS"):
        audit_command.settings({}, {"BULKHEAD_MAX_RESULTS": "0"})


def test_a_setting_declared_twice_is_refused() -> None:
    row = settingtable.Setting(name="port", help="listen port")
    with pytest.raises(ValueError, match="declared twice"):
        settingtable.Table((row, row))
