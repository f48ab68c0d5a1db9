"""Table tests for Kubernetes quantity parsing."""

from __future__ import annotations

from fractions import Fraction

import pytest

from webhook.rules import quantity

VALID = [
    pytest.param("0", Fraction(0), id="zero"),
    pytest.param("1", Fraction(1), id="one"),
    pytest.param("2", Fraction(2), id="plain-cpu"),
    pytest.param("500m", Fraction(1, 2), id="milli"),
    pytest.param("0.5", Fraction(1, 2), id="decimal"),
    pytest.param(".5", Fraction(1, 2), id="leading-dot"),
    pytest.param("5.", Fraction(5), id="trailing-dot"),
    pytest.param("+1", Fraction(1), id="plus-sign"),
    pytest.param("-1", Fraction(-1), id="minus-sign"),
    pytest.param("1n", Fraction(1, 10**9), id="nano"),
    pytest.param("1u", Fraction(1, 10**6), id="micro"),
    pytest.param("1k", Fraction(1000), id="kilo"),
    pytest.param("1M", Fraction(10**6), id="mega"),
    pytest.param("1G", Fraction(10**9), id="giga"),
    pytest.param("1T", Fraction(10**12), id="tera"),
    pytest.param("1P", Fraction(10**15), id="peta"),
    pytest.param("1E", Fraction(10**18), id="exa"),
    pytest.param("1Ki", Fraction(1024), id="kibi"),
    pytest.param("1Mi", Fraction(2**20), id="mebi"),
    pytest.param("4Gi", Fraction(4 * 2**30), id="gibi"),
    pytest.param("1Ti", Fraction(2**40), id="tebi"),
    pytest.param("1Pi", Fraction(2**50), id="pebi"),
    pytest.param("1Ei", Fraction(2**60), id="exbi"),
    pytest.param("1.5Gi", Fraction(3 * 2**29), id="fractional-binary"),
    pytest.param("1e3", Fraction(1000), id="exponent"),
    pytest.param("1E3", Fraction(1000), id="upper-exponent"),
    pytest.param("1e-3", Fraction(1, 1000), id="negative-exponent"),
    pytest.param("1e+3", Fraction(1000), id="plus-exponent"),
    pytest.param("2.5e2", Fraction(250), id="decimal-exponent"),
    pytest.param("0.1", Fraction(1, 10), id="exact-tenth"),
]


@pytest.mark.parametrize(("text", "value"), VALID)
def test_parse_valid(text: str, value: Fraction) -> None:
    assert quantity.parse(text) == value


EQUAL = [
    pytest.param("4Gi", "4096Mi", id="gibi-mebi"),
    pytest.param("1Gi", "1073741824", id="gibi-bytes"),
    pytest.param("0.1", "100m", id="tenth-milli"),
    pytest.param("1k", "1e3", id="kilo-exponent"),
    pytest.param("1000m", "1", id="milli-one"),
    pytest.param("0.5Ki", "512", id="half-kibi"),
]


@pytest.mark.parametrize(("left", "right"), EQUAL)
def test_equal_quantities(left: str, right: str) -> None:
    assert quantity.parse(left) == quantity.parse(right)


def test_binary_and_decimal_differ() -> None:
    assert quantity.parse("1Gi") > quantity.parse("1G")
    assert quantity.parse("1Ki") != quantity.parse("1k")


INVALID = [
    pytest.param("", "empty", id="empty"),
    pytest.param("Gi", "number", id="suffix-only"),
    pytest.param(".", "number", id="dot-only"),
    pytest.param("1K", "suffix", id="upper-K"),
    pytest.param("1ki", "suffix", id="lower-ki"),
    pytest.param("1gi", "suffix", id="lower-gi"),
    pytest.param("1GB", "suffix", id="GB"),
    pytest.param("1 Gi", "suffix", id="space"),
    pytest.param("1e", "suffix", id="bare-e"),
    pytest.param("1e3.5", "suffix", id="fractional-exponent"),
    pytest.param("1.2.3", "suffix", id="two-dots"),
    pytest.param("1e3Ki", "suffix", id="exponent-and-suffix"),
    pytest.param("--1", "number", id="double-sign"),
    pytest.param("1e100000", "out of range", id="huge-exponent"),
    pytest.param("1" * 200, "longer", id="too-long"),
    pytest.param("1\n", "suffix", id="newline"),
]


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_parse_invalid(text: str, reason: str) -> None:
    with pytest.raises(quantity.QuantityError) as caught:
        quantity.parse(text)
    assert reason in caught.value.reason


OF = [
    pytest.param(2, Fraction(2), id="int"),
    pytest.param(0.5, Fraction(1, 2), id="float"),
    pytest.param(1e20, Fraction(10**20), id="float-exponent"),
    pytest.param("2", Fraction(2), id="string"),
]


@pytest.mark.parametrize(("value", "expected"), OF)
def test_of(value: object, expected: Fraction) -> None:
    assert quantity.of(value) == expected


@pytest.mark.parametrize(
    "value",
    [True, None, [1], float("inf"), float("nan")],
    ids=["bool", "null", "list", "inf", "nan"],
)
def test_of_rejects_non_quantities(value: object) -> None:
    with pytest.raises(quantity.QuantityError):
        quantity.of(value)
