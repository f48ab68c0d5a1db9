"""Shell completion scripts (bash, zsh, fish) generated from the command's argument parser. Pure.

``script(parser, shell)`` reads the parser, so every subcommand and flag is
completed without editing the scripts: subcommands with their help, each
subcommand's flags, file names after flags whose value is a ``PATH`` or
``FILE``, directories for a ``DIR`` positional (``bulkhead test``), and the
choices of flags and positionals that have them (``-o``, ``--fail-on``,
``completion SHELL``). Load them with::

    source <(bulkhead completion bash)          # ~/.bashrc
    source <(bulkhead completion zsh)           # ~/.zshrc, after compinit
    bulkhead completion fish | source           # ~/.config/fish/config.fish
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Final

SHELLS: Final = ("bash", "zsh", "fish")
_PATH_METAVARS: Final = frozenset({"PATH", "FILE"})


@dataclasses.dataclass(frozen=True, slots=True)
class Option:
    """One flag: its spellings, help, whether it takes a value, its choices, if it names a file."""

    flags: tuple[str, ...]
    help: str
    takes_value: bool
    choices: tuple[str, ...]
    files: bool
    repeatable: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Command:
    """A subcommand (or the top level, named ``""``) with its flags and positional values."""

    name: str
    help: str
    options: tuple[Option, ...]
    #: the positional's choices, if it has some
    choices: tuple[str, ...] = ()
    #: the positional names directories
    directories: bool = False


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    return " ".join(text.replace("%(default)s", str(action.default)).split())


def _command(name: str, help_text: str, parser: argparse.ArgumentParser) -> Command:
    options: list[Option] = []
    choices: tuple[str, ...] = ()
    directories = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        values = tuple(str(c) for c in action.choices) if action.choices else ()
        if not action.option_strings:
            choices = values
            directories = action.metavar == "DIR"
            continue
        options.append(
            Option(
                flags=tuple(action.option_strings),
                help=_help(action),
                takes_value=action.nargs != 0,
                choices=values,
                files=action.metavar in _PATH_METAVARS,
                repeatable=isinstance(action, argparse._AppendAction),
            )
        )
    return Command(name, help_text, tuple(options), choices, directories)


def commands(parser: argparse.ArgumentParser) -> tuple[Command, list[Command]]:
    """The top level and every subcommand of ``parser``."""
    out: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            out.extend(_command(n, helps.get(n, ""), p) for n, p in action.choices.items())
    return _command("", parser.description or "", parser), out


def _bash_reply(kind: str, words: tuple[str, ...] = ()) -> str:
    """Fill COMPREPLY from ``compgen -f`` (files), ``-d`` (directories) or ``-W`` (words)."""
    listed = f' "{" ".join(words)}"' if kind == "-W" else ""
    return f'mapfile -t COMPREPLY < <(compgen {kind}{listed} -- "$cur")'


def _bash(top: Command, subs: list[Command]) -> str:
    lines = [
        "# bash completion for bulkhead; load it with: source <(bulkhead completion bash)",
        "_bulkhead() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local command="" i',
        "    COMPREPLY=()",
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        case "${COMP_WORDS[i]}" in',
        "            -*) ;;",
        '            *) command="${COMP_WORDS[i]}"; break ;;',
        "        esac",
        "    done",
        '    case "$command" in',
        '        "")',
        "            "
        + _bash_reply("-W", (*(s.name for s in subs), *(f for o in top.options for f in o.flags))),
        "            ;;",
    ]
    for sub in subs:
        lines.append(f"        {sub.name})")
        lines.append('            case "$prev" in')
        plain: list[str] = []
        for option in sub.options:
            pattern = "|".join(option.flags)
            if option.files:
                lines.append(f"                {pattern}) {_bash_reply('-f')}; return ;;")
            elif option.choices:
                lines.append(
                    f"                {pattern}) {_bash_reply('-W', option.choices)}; return ;;"
                )
            elif option.takes_value:
                plain.append(pattern)
        if plain:
            lines.append(f"                {'|'.join(plain)}) return ;;")
        lines.append("            esac")
        flags = _bash_reply("-W", tuple(f for o in sub.options for f in o.flags))
        if sub.choices or sub.directories:
            positional = _bash_reply("-W", sub.choices) if sub.choices else _bash_reply("-d")
            lines += [
                '            if [[ "$cur" == -* ]]; then',
                f"                {flags}",
                "            else",
                f"                {positional}",
                "            fi",
            ]
        else:
            lines.append(f"            {flags}")
        lines.append("            ;;")
    lines += ["    esac", "}", "complete -o filenames -F _bulkhead bulkhead", ""]
    return "\n".join(lines)


def _zsh_text(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return escaped.replace(":", "\\:").replace("'", "'\\''")


def _zsh_spec(option: Option, flag: str) -> str:
    spec = f"{'*' if option.repeatable else ''}{flag}[{_zsh_text(option.help)}]"
    if option.takes_value:
        name = max(option.flags, key=len).lstrip("-")
        if option.files:
            spec += f":{name}:_files"
        elif option.choices:
            spec += f":{name}:({' '.join(option.choices)})"
        else:
            spec += f":{name}: "
    return f"'{spec}'"


def _zsh(top: Command, subs: list[Command]) -> str:
    lines = [
        "#compdef bulkhead",
        "# zsh completion for bulkhead; load it with: source <(bulkhead completion zsh)",
        "# (after compinit), or save it as _bulkhead in a directory on $fpath.",
        "_bulkhead() {",
        '    local curcontext="$curcontext" state line',
        "    typeset -A opt_args",
        "    _arguments -C \\",
        *(f"        {_zsh_spec(o, f)} \\" for o in top.options for f in o.flags),
        "        '1:command:->command' \\",
        "        '*::argument:->argument'",
        "    case $state in",
        "        command)",
        "            local -a commands",
        "            commands=(",
        *(f"                '{s.name}:{_zsh_text(s.help)}'" for s in subs),
        "            )",
        "            _describe -t commands 'bulkhead command' commands",
        "            ;;",
        "        argument)",
        "            case $line[1] in",
    ]
    for sub in subs:
        specs = [_zsh_spec(o, f) for o in sub.options for f in o.flags]
        if sub.choices:
            specs.append(f"'1:{sub.name}:({' '.join(sub.choices)})'")
        elif sub.directories:
            specs.append("'*:directory:_files -/'")
        lines.append(f"                {sub.name})")
        lines.append("                    _arguments \\")
        lines.extend(f"                        {spec} \\" for spec in specs[:-1])
        lines.append(
            f"                        {specs[-1]}" if specs else "                        ''"
        )
        lines.append("                    ;;")
    lines += [
        "            esac",
        "            ;;",
        "    esac",
        "}",
        'if [ "$funcstack[1]" = "_bulkhead" ]; then',
        '    _bulkhead "$@"',
        "else",
        "    compdef _bulkhead bulkhead",
        "fi",
        "",
    ]
    return "\n".join(lines)


def _fish_text(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_option(condition: str, option: Option) -> str:
    parts = ["complete -c bulkhead", f"-n {_fish_text(condition)}"]
    for flag in option.flags:
        parts.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
    if option.files:
        parts.append("-r -F")
    elif option.choices:
        parts.append(f"-x -a {_fish_text(' '.join(option.choices))}")
    elif option.takes_value:
        parts.append("-x")
    parts.append(f"-d {_fish_text(option.help)}")
    return " ".join(parts)


def _fish(top: Command, subs: list[Command]) -> str:
    first = "__fish_use_subcommand"
    lines = [
        "# fish completion for bulkhead; load it with: bulkhead completion fish | source",
        "complete -c bulkhead -f",
        *(_fish_option(first, o) for o in top.options),
        *(f"complete -c bulkhead -n {first} -a {s.name} -d {_fish_text(s.help)}" for s in subs),
    ]
    for sub in subs:
        condition = f"__fish_seen_subcommand_from {sub.name}"
        lines.extend(_fish_option(condition, o) for o in sub.options)
        if sub.choices:
            values = _fish_text(" ".join(sub.choices))
            lines.append(f"complete -c bulkhead -n {_fish_text(condition)} -x -a {values}")
        elif sub.directories:
            lines.append(
                f"complete -c bulkhead -n {_fish_text(condition)} -x "
                "-a '(__fish_complete_directories)'"
            )
    return "\n".join(lines) + "\n"


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for ``shell`` (one of ``SHELLS``)."""
    top, subs = commands(parser)
    if shell == "zsh":
        return _zsh(top, subs)
    if shell == "fish":
        return _fish(top, subs)
    return _bash(top, subs)
