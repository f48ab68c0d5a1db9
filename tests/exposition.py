"""Reading the Prometheus text exposition format in tests.

Owns: :func:`value`, which finds one sample by name and labels and returns its
number. Tests compare numbers, never formatted strings: prometheus_client
prints floats with Python's ``repr`` (``1.79879918e+09``), which no fixed
format string reproduces for every value. No I/O.
"""

from __future__ import annotations

from prometheus_client import parser


def value(text: str, name: str, **labels: str) -> float:
    """The value of the one sample ``name{labels}`` in ``text``; AssertionError if absent."""
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    raise AssertionError(f"no sample {name}{labels} in the exposition:\n{text}")
