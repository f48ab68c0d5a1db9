"""``bulkhead completion bash|zsh|fish`` through the console script.

Bash is on every machine this project runs on, so its script is run for real
(``COMP_WORDS`` in, ``COMPREPLY`` out). The zsh and fish scripts are checked
for what they must contain, generated from the same parser.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

from tests.unit.cli import console

SUBCOMMANDS = ("check", "test", "serve", "operator", "audit", "version", "completion")


def script(shell: str) -> str:
    result = console.run("completion", shell)
    assert result.returncode == 0, result.stderr
    return result.stdout


def complete(line: str, cwd: pathlib.Path = console.ROOT) -> list[str]:
    """What bash completes for ``line`` (the word being typed is its last word)."""
    words = line.split(" ")
    program = (
        f"{script('bash')}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        '_bulkhead; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    bash = shutil.which("bash")
    assert bash is not None
    result = subprocess.run(
        [bash, "--norc", "-c", program],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr
    return [w for w in result.stdout.splitlines() if w]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("bulkhead ", [*SUBCOMMANDS, "-h", "--help", "--version"]),
        ("bulkhead c", ["check", "completion"]),
        ("bulkhead check --f", ["--filename", "--fail-on"]),
        ("bulkhead check -o ", ["text", "json", "yaml", "sarif", "junit"]),
        ("bulkhead check -f x.yaml --fail-on w", ["warn"]),
        ("bulkhead check --profile ", []),
        ("bulkhead completion ", ["bash", "zsh", "fish"]),
        ("bulkhead serve --tls-c", ["--tls-cert-file"]),
        ("bulkhead test -", ["-h", "--help", "--pss-latest", "-o", "--output"]),
    ],
    ids=[
        "subcommands",
        "prefix",
        "check-flags",
        "output-formats",
        "fail-on-after-file",
        "no-guess-for-profile",
        "shells",
        "serve-flags",
        "test-flags",
    ],
)
def test_bash_completes(line: str, expected: list[str]) -> None:
    assert complete(line) == expected


def test_bash_completes_files_and_directories(tmp_path: pathlib.Path) -> None:
    (tmp_path / "suites").mkdir()
    (tmp_path / "pod.yaml").write_text("kind: Pod\n")
    assert complete("bulkhead check -f p", cwd=tmp_path) == ["pod.yaml"]
    assert complete("bulkhead test ", cwd=tmp_path) == ["suites"]


def test_zsh_script_knows_every_subcommand_and_flag() -> None:
    text = script("zsh")
    assert text.startswith("#compdef bulkhead\n")
    for name in SUBCOMMANDS:
        assert f"'{name}:" in text
    assert "'*--filename[a YAML/JSON file, a directory, or - for stdin (repeatable)]" in text
    assert ":output:(text json yaml sarif junit)'" in text
    assert "'1:completion:(bash zsh fish)'" in text
    assert "'*:directory:_files -/'" in text
    assert "compdef _bulkhead bulkhead" in text


def test_fish_script_knows_every_subcommand_and_flag() -> None:
    text = script("fish")
    for name in SUBCOMMANDS:
        assert f"complete -c bulkhead -n __fish_use_subcommand -a {name} -d " in text
    check = "complete -c bulkhead -n '__fish_seen_subcommand_from check'"
    assert f"{check} -s f -l filename -r -F -d " in text
    assert f"{check} -s o -l output -x -a 'text json yaml sarif junit'" in text
    assert f"{check} -l fail-on -x -a 'deny warn'" in text


def test_unknown_shell_is_refused() -> None:
    result = console.run("completion", "powershell")
    assert result.returncode == 2
    assert "invalid choice: 'powershell'" in result.stderr
