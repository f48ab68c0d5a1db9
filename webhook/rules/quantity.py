"""Kubernetes resource quantities (``500m``, ``4Gi``, ``1e3``) as exact numbers. Pure, no I/O.

Grammar, as the apiserver reads it:

    quantity := [+-] number suffix
    number   := digits | digits "." digits | digits "." | "." digits
    suffix   := "" | n | u | m | k | M | G | T | P | E     (powers of 1000)
              | Ki | Mi | Gi | Ti | Pi | Ei                (powers of 1024)
              | (e | E) [+-] digits                        (a power of ten)

Values are ``fractions.Fraction``: exact, so ``4Gi == 4096Mi`` and
``0.1 == 100m``. Exponents beyond +-1000 and texts longer than 128 characters
are refused, so a hostile quantity cannot make the arithmetic expensive.
``parse`` is cached (bounded): pods repeat the same few quantities.
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction
from typing import Final

_MAX_TEXT: Final = 128
_MAX_EXPONENT: Final = 1000
_CACHE_SIZE: Final = 1024
_NUMBER: Final = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)", re.DOTALL)
_EXPONENT: Final = re.compile(r"[eE]([+-]?[0-9]+)")
_SUFFIXES: Final = {
    "": Fraction(1),
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
}


class QuantityError(ValueError):
    """Text that is not a Kubernetes quantity; ``reason`` says why."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"{text!r}: {reason}")
        self.text = text
        self.reason = reason


def _multiplier(text: str, suffix: str) -> Fraction:
    known = _SUFFIXES.get(suffix)
    if known is not None:
        return known
    exponent = _EXPONENT.fullmatch(suffix)
    if exponent is None:
        raise QuantityError(
            text,
            f'unknown suffix "{suffix}"; use n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei '
            "or an exponent like e3",
        )
    power = int(exponent.group(1))
    if abs(power) > _MAX_EXPONENT:
        raise QuantityError(text, f"exponent {power} is out of range")
    return Fraction(10) ** power


@functools.lru_cache(maxsize=_CACHE_SIZE)
def parse(text: str) -> Fraction:
    """The exact value of a quantity; ``QuantityError`` when the text is not one."""
    if not text:
        raise QuantityError(text, "is empty")
    if len(text) > _MAX_TEXT:
        raise QuantityError(text[:32] + "...", f"is longer than {_MAX_TEXT} characters")
    match = _NUMBER.fullmatch(text)
    if match is None:  # pragma: no cover - the pattern matches every string
        raise QuantityError(text, "is not a number")
    sign, whole, fraction, suffix = match.groups()
    fraction = fraction or ""
    if not whole and not fraction:
        raise QuantityError(text, "must start with a number, e.g. 500m or 1Gi")
    value = Fraction(int(whole + fraction or "0"), 10 ** len(fraction))
    value *= _multiplier(text, suffix)
    return -value if sign == "-" else value


def of(value: object) -> Fraction:
    """The exact value of a quantity written as text or as a YAML/JSON number."""
    if isinstance(value, str):
        return parse(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Fraction(value)
    if isinstance(value, float):
        return parse(repr(value))
    raise QuantityError(str(value), "must be a quantity such as 500m or 1Gi")
