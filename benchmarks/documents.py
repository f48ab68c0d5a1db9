"""Seconds to read ~2,000 Deployments of YAML: libyaml's parser against PyYAML's pure-Python one.

Both loaders are the strict ones ``bulkhead check`` uses (duplicate keys and
non-scalar keys refused, aliases bounded), so the figures are what a user
sees for ``bulkhead check -f`` on a large ``helm template`` output. Run:
``.venv/bin/python benchmarks/documents.py [COUNT]``.
"""

from __future__ import annotations

import sys
import time

import decision  # benchmarks/decision.py, next to this script: the realistic Deployment
import yaml

from webhook import documents


def manifest(count: int) -> str:
    """``count`` Deployments (an init container and two containers each), one document each."""
    parts = []
    for index in range(count):
        body = decision.deployment(2)
        body["metadata"]["name"] = f"web-{index}"
        parts.append(yaml.safe_dump(body, sort_keys=False))
    return "---\n".join(parts)


def seconds(text: str, loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader]) -> float:
    """One read (the pure-Python one takes minutes; repeat runs to see the spread)."""
    started = time.perf_counter()
    documents.parse(text, "bench.yaml", loader=loader)
    return time.perf_counter() - started


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    text = manifest(count)
    print(f"{count} Deployments, {len(text) / 1e6:.1f} MB of YAML; one read each")
    python = seconds(text, documents.PYTHON_LOADER)
    print(f"pure-Python loader: {python:6.2f} s")
    if not yaml.__with_libyaml__:
        print("libyaml loader:     not available (PyYAML built without libyaml)")
        return
    libyaml = seconds(text, documents.LOADER)
    print(f"libyaml loader:     {libyaml:6.2f} s   ({python / libyaml:.1f}x faster)")


if __name__ == "__main__":
    main()
