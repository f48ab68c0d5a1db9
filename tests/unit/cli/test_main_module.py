"""``python -m webhook`` is the ``bulkhead`` command."""

from __future__ import annotations

import subprocess
import sys

from tests.unit.cli import console


def _module(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webhook", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=console.ROOT,
    )


def test_python_m_webhook_judges_like_the_console_script() -> None:
    args = ("check", "-f", "-", "--profile", "restricted")
    by_module = _module(*args, stdin=console.PRIVILEGED_POD)
    by_script = console.run(*args, stdin=console.PRIVILEGED_POD)
    assert by_module.returncode == by_script.returncode == 1
    assert by_module.stdout == by_script.stdout
    assert "securityContext.privileged" in by_module.stdout


def test_python_m_webhook_reports_unusable_settings_with_exit_2() -> None:
    result = _module("serve", "--profile", "restricted", "--tls-private-key-file", "/k")
    assert result.returncode == 2
    assert "--tls-cert-file (or BULKHEAD_TLS_CERT_FILE) is required" in result.stderr
