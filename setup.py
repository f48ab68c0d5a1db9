"""Build hook: with ``BULKHEAD_COMPILE_CORE=1`` the pure core is compiled to C by mypyc.

Everything else about the package is in ``pyproject.toml``. The image sets
the variable (Dockerfile); ``tools/compiled_core.sh`` builds the same thing
for the tests and the benchmarks. A build without it (``make setup``'s
editable install, ``pip install .``) is plain Python and needs no compiler.

The pure core (rules, profiles, policies, admission decisions) runs on every
review; compiled, the decision for the server benchmark's Pod executes about
half the instructions (docs/server.md). Its modules import the standard
library only, and ``mypy --strict`` already holds on them, which is what
mypyc needs. A few stay Python, with the reason.
"""

from __future__ import annotations

import os
import pathlib

from setuptools import setup

HERE = pathlib.Path(__file__).parent
CORE = ("admission", "policy", "profiles", "rules")
INTERPRETED = {
    # the one module of the pure core that talks to the cluster; not on the review path
    "webhook/policy/cache.py",
    # subclasses a builtin type (mypyc compiles no such class); policy compilation only
    "webhook/policy/schema.py",
    # a generic frozen dataclass with slots (mypyc refuses its class layout); policy
    # compilation only
    "webhook/rules/registry.py",
}


def compiled_modules() -> list[str]:
    """The core's modules mypyc compiles, as paths relative to the project."""
    found = (
        path.relative_to(HERE).as_posix()
        for package in CORE
        for path in (HERE / "webhook" / package).glob("*.py")
    )
    return sorted(path for path in found if path not in INTERPRETED)


if os.environ.get("BULKHEAD_COMPILE_CORE") == "1":
    from mypyc.build import mypycify

    setup(ext_modules=mypycify(compiled_modules(), opt_level="3"))
else:
    setup()
