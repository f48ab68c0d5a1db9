"""Settings declared once, as rows of a table, and everything derived from them. Pure.

A ``Setting`` row is the one declaration of a setting of a long-running
command (``bulkhead serve``, ``operator``, ``audit``): its name, its flag
(``--name-with-dashes``), its environment variable
(``BULKHEAD_NAME_WITH_UNDERSCORES`` unless the row names another), its
default and its help. A ``Table`` of rows derives the command's argparse
flags (``add_arguments``) and the settings table of its docs page
(``markdown``; ``tools/render_settings.py`` writes them), and reads a
setting with the precedence every command shares: the flag, then the
variable, then the default (``pick``, ``items``). ``SettingsError`` names
the flag and the variable at fault.

Also here: the parsers of values more than one command takes (seconds,
counts, IP addresses, ports, log levels, the profile version ``latest``
means). The modules that own the
tables (``webhook.server.settings``, ``webhook.operator.settings``,
``webhook.audit.settings``) keep the parsers only they need.

No I/O: the flags and the environment are mappings the caller passes in.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, TypeVar

from webhook import profiles

ENV_PREFIX: Final = "BULKHEAD_"
LOG_LEVELS: Final = ("debug", "info", "warning", "error")

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting cannot be used; the message names the flag and environment variable."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    """One setting: the single place its name, flag, variable, default and help are written."""

    #: The key of its value in the parsed flags (``port``, ``policy_file``).
    name: str
    #: One line for ``--help`` and the docs.
    help: str
    #: The value when neither flag nor variable is given, written as a user would write it;
    #: ``""``: none (``default_text`` then says what happens instead).
    default: str = ""
    #: How the docs and ``--help`` describe a default that is not a plain value.
    default_text: str = ""
    #: More for the docs page only.
    note: str = ""
    metavar: str | None = None
    #: A short flag (``-f``), besides the long one.
    short: str = ""
    #: The variable when not ``BULKHEAD_<NAME>``; ``None``: a flag only.
    variable: str | None = ""
    #: The flag may repeat; the variable is then a comma-separated list.
    repeatable: bool = False
    #: A flag with no value: given, it means ``true``.
    switch: bool = False
    choices: tuple[str, ...] = ()
    #: The Helm chart value that sets it, if any.
    chart_value: str = ""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str | None:
        """The environment variable, or ``None`` for a flag-only setting."""
        if self.variable is None:
            return None
        return self.variable or ENV_PREFIX + self.name.upper()

    @property
    def described_default(self) -> str:
        if self.default_text:
            return self.default_text
        if self.switch and not self.default:
            return "off"
        return f"`{self.default}`" if self.default else "none"

    def source(self) -> str:
        """``--flag / BULKHEAD_VARIABLE``: where an error points."""
        return f"{self.flag} / {self.env}" if self.env else self.flag


@dataclasses.dataclass(frozen=True, slots=True)
class Table:
    """The settings of one command, in the order its ``--help`` and docs list them."""

    rows: tuple[Setting, ...]

    def __post_init__(self) -> None:
        names = [row.name for row in self.rows]
        if len(set(names)) != len(names):
            raise ValueError(f"a setting is declared twice in {names}")

    def __iter__(self) -> Iterator[Setting]:
        return iter(self.rows)

    def __getitem__(self, name: str) -> Setting:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    def pick(
        self,
        name: str,
        flags: Mapping[str, object],
        environ: Mapping[str, str],
        convert: Callable[[str], T],
    ) -> T:
        """The flag if given, else the variable if set, else the declared default; converted."""
        row = self[name]
        flagged = flags.get(name)
        if flagged is not None:
            text = str(flagged)
        elif row.env and environ.get(row.env, "") != "":
            text = environ[row.env]
        else:
            text = row.default
        try:
            return convert(text)
        except ValueError as err:
            raise SettingsError(f"{row.source()}: {err}") from err

    def required(self, name: str, flags: Mapping[str, object], environ: Mapping[str, str]) -> str:
        """A text setting that has no default: missing, it is an error naming both sources."""
        value = self.pick(name, flags, environ, str)
        if not value:
            row = self[name]
            raise SettingsError(f"{row.flag} (or {row.env}) is required")
        return value

    def items(
        self, name: str, flags: Mapping[str, object], environ: Mapping[str, str]
    ) -> tuple[str, ...] | None:
        """A repeatable setting: the flag's items, else the variable's comma list, else ``None``."""
        row = self[name]
        flagged = flags.get(name)
        if flagged:
            if not isinstance(flagged, list | tuple):
                raise SettingsError(f"{row.flag}: expected a list")
            return tuple(str(item).strip() for item in flagged if str(item).strip())
        raw = environ.get(row.env, "") if row.env else ""
        if raw == "":
            return None
        return tuple(item.strip() for item in raw.split(",") if item.strip())

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """One flag per row. A flag backed by a variable defaults to ``None`` (not given)."""
        for row in self.rows:
            names = [row.short, row.flag] if row.short else [row.flag]
            options: dict[str, Any] = {"help": _help(row)}
            if row.switch:
                switch = {"action": "store_true"} if row.env is None else {"const": "true"}
                options.update({"action": "store_const", **switch})
            else:
                if row.repeatable:
                    options["action"] = "append"
                if row.metavar:
                    options["metavar"] = row.metavar
                if row.choices:
                    options["choices"] = row.choices
                if row.env is None:
                    options["default"] = [] if row.repeatable else (row.default or None)
            parser.add_argument(*names, **options)

    def markdown(self) -> str:
        """The docs table: flag, environment, default, meaning (and chart value, if any)."""
        chart = any(row.chart_value for row in self.rows)
        header = ["flag", "environment", "default", "meaning", *(["chart value"] if chart else [])]
        lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        for row in self.rows:
            long = f"{row.flag} {row.metavar}" if row.metavar else row.flag
            flag = f"`{row.short}`, `{long}`" if row.short else f"`{long}`"
            env = f"`{row.env}`" if row.env else "(flag only)"
            if row.repeatable:
                flag += " (repeatable)"
                env += " (comma list)" if row.env else ""
            meaning = f"{row.help}; {row.note}" if row.note else row.help
            cells = [flag, env, row.described_default, meaning]
            if chart:
                cells.append(f"`{row.chart_value}`" if row.chart_value else "")
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def _help(row: Setting) -> str:
    text = row.help + (" (repeatable)" if row.repeatable else "")
    if row.default_text:
        return f"{text} ({row.default_text.replace('`', '')})"
    if row.default and not row.switch:
        return f"{text} (default: {row.default})"
    return text


def seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a positive number of seconds, not {text!r}")
    return value


def count(text: str) -> int:
    """A whole number, at least 1."""
    value = int(text)
    if value < 1:
        raise ValueError(f"must be at least 1, not {text}")
    return value


def ip_address(text: str) -> str:
    """An IPv4 or IPv6 address, as given."""
    try:
        ipaddress.ip_address(text)
    except ValueError as err:
        raise ValueError(f"must be an IP address, not {text!r}") from err
    return text


def port(text: str) -> int:
    """A TCP port, 0 included (0: off)."""
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(f"must be between 0 and 65535, not {text}")
    return value


def log_level(text: str) -> str:
    """One of ``LOG_LEVELS``, in lower case."""
    level = text.lower()
    if level not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {text!r}")
    return level


def latest_minor(text: str) -> int:
    """The minor version ``latest`` stands for, from ``v1.N``."""
    minor = profiles.parse_version(text)
    if minor is None or minor > profiles.NEWEST_MINOR:
        raise ValueError(f"must be between v1.0 and v1.{profiles.NEWEST_MINOR}, not {text!r}")
    return minor


def pss_latest_row(*, chart_value: str = "") -> Setting:
    """The ``--pss-latest`` row every command shares."""
    return Setting(
        name="pss_latest",
        help="the policy version 'latest' means",
        default=f"v1.{profiles.DEFAULT_LATEST_MINOR}",
        metavar="v1.N",
        chart_value=chart_value,
    )


def log_level_row(*, chart_value: str = "") -> Setting:
    """The ``--log-level`` row every command shares."""
    return Setting(
        name="log_level",
        help="debug, info, warning or error",
        default="info",
        chart_value=chart_value,
    )
