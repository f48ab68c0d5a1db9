"""Resolving one setting from its sources: a flag, a ``BULKHEAD_*`` variable, a default. Pure.

Owns the precedence every ``bulkhead`` command shares (a flag, then the
``BULKHEAD_<NAME>`` environment variable, then the default), the names a
setting goes by (``--name-with-dashes``, ``BULKHEAD_NAME_WITH_UNDERSCORES``),
``SettingsError`` naming both, and the parsers of the settings both
``webhook.server.settings`` and ``webhook.operator.settings`` take (ports,
log levels, the profile version ``latest`` means). Each of those modules
keeps its own ``Settings`` and the parsers only it needs.

No I/O: the flags and the environment are mappings the caller passes in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, TypeVar

from webhook import profiles

ENV_PREFIX: Final = "BULKHEAD_"
LOG_LEVELS: Final = ("debug", "info", "warning", "error")

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting cannot be used; the message names the flag and environment variable."""


def variable_name(name: str) -> str:
    """``BULKHEAD_<NAME>`` for the setting ``name``."""
    return ENV_PREFIX + name.upper()


def flag_name(name: str) -> str:
    """``--name-with-dashes`` for the setting ``name_with_dashes``."""
    return "--" + name.replace("_", "-")


def pick(
    name: str,
    flags: Mapping[str, object],
    environ: Mapping[str, str],
    convert: Callable[[str], T],
    default: T,
) -> T:
    """The flag if given, else the environment variable if set, else ``default``."""
    env = variable_name(name)
    flagged = flags.get(name)
    try:
        if flagged is not None:
            return convert(str(flagged))
        if environ.get(env, "") != "":
            return convert(environ[env])
    except ValueError as err:
        raise SettingsError(f"{flag_name(name)} / {env}: {err}") from err
    return default


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
