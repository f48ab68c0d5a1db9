"""Write a generated file, or with ``--check`` only say whether it is stale. File I/O.

The command line of the generators in this folder (``rules_reference.py``,
``generate_shapes.py``), which import it as a sibling module.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from collections.abc import Callable, Sequence


def main(
    prog: str, target: pathlib.Path, render: Callable[[], str], argv: Sequence[str] | None
) -> int:
    """Write ``render()`` to ``target``; with ``--check``, exit 1 if it differs instead."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            sys.stderr.write(f"{target} is stale: run {prog}\n")
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")
    return 0
