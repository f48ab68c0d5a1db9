"""Fixtures of the node suite: one test node per session and the chart installed on it.

Owns: the ``node`` marker, the session's ``node`` (``devcluster.node.Node``:
built or reused, started, torn down, the host left as found) and
``release``: Bulkhead installed with ``helm install`` as a user installs it,
the image by digest, waited for with ``--wait``. If the node cannot start the
fixtures raise and every test here fails: nothing is skipped.
"""

from __future__ import annotations

import dataclasses
import pathlib
import sys
from collections.abc import Iterator

import pytest

from devcluster import node as node_

CHART = node_.CHART
RELEASE = node_.RELEASE
NAMESPACE = node_.RELEASE_NAMESPACE
#: A namespace the webhook judges, for the tests' own Pods.
JUDGED = "team-a"
#: Certificate lifetimes short enough that the CA and the serving certificate
#: rotate while the suite runs (every test meets rotations; one waits for a
#: whole CA rotation): serving certificate renewed every 40 s, CA every 2 min.
SHORT_LIFETIMES = (
    "--set", "operator.caLifetime=3m",
    "--set", "operator.certLifetime=60s",
    "--set", "operator.rotationOverlap=10s",
    "--set", "operator.checkInterval=2s",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Release:
    """The installed chart: where, which image, and the helm flags it was installed with."""

    node: node_.Node
    namespace: str
    judged: str
    image: str
    set_flags: tuple[str, ...]

    def upgrade(self, *extra: str) -> None:
        """``helm upgrade`` with the install's flags plus ``extra``, waited for."""
        self.node.helm(
            "upgrade", RELEASE, str(CHART), "--namespace", self.namespace,
            *self.set_flags, *extra, "--wait", "--timeout", "5m",
        )  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if pathlib.Path(str(item.fspath)).parent == pathlib.Path(__file__).parent:
            item.add_marker(pytest.mark.node)


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[node_.Node]:
    """The session's test node; its timings and memory go to stderr and figures.txt."""
    log_dir = tmp_path_factory.mktemp("node-logs")
    started = node_.Node(log_dir=log_dir)
    started.start()
    try:
        yield started
        figures = f"node phases (s): {started.timings}\n"
        with (log_dir / "figures.txt").open("a", encoding="utf-8") as out:
            out.write(figures)
        sys.stderr.write("\n" + figures)
    finally:
        started.stop()


@pytest.fixture(scope="session")
def release(node: node_.Node) -> Release:
    """Bulkhead installed from the chart with the image built here, by digest.

    As a user installs it, but with short certificate lifetimes (above).
    """
    node.kubectl("create", "namespace", JUDGED)
    set_flags = node.install_chart("--set", f"test.namespace={JUDGED}", *SHORT_LIFETIMES)
    memory = f"node memory with Bulkhead installed (MiB): {node.memory()}\n"
    with (node.log_dir / "figures.txt").open("a", encoding="utf-8") as figures:
        figures.write(memory)
    sys.stderr.write("\n" + memory)
    return Release(
        node=node,
        namespace=NAMESPACE,
        judged=JUDGED,
        image=f"{node_.IMAGE_REPOSITORY}@{node.image_digest}",
        set_flags=set_flags,
    )
