"""``make demo`` end to end: start, judge the examples, start again, stop, leave nothing.

Owns: running ``python -m tests.cluster.demo start|status|stop`` (what the
Makefile's ``demo`` and ``demo-stop`` targets run) against a private state
directory, so a developer's own demo is never touched. Proves the examples
are judged as their directories say, that a second start replaces the first
without stray processes, and that stop ends every process and removes the
state. Starts its own control plane, in bounded time.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from tests.cluster import controlplane, demo

pytestmark = pytest.mark.cluster

#: Generous enough for a first build of kube-apiserver (about 4 minutes here).
START_TIMEOUT = 900.0


def _demo(command: str, state_dir: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", demo.MODULE, command, "--state-dir", str(state_dir),
         "--timeout", str(START_TIMEOUT)],
        cwd=controlplane.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT + 120,
        check=False,
    )  # fmt: skip


def _pids(state_dir: pathlib.Path) -> dict[str, int]:
    ready = json.loads((state_dir / demo.READY).read_text())
    pids: dict[str, int] = dict(ready["pids"])
    pids["supervisor"] = int((state_dir / demo.SUPERVISOR_PID).read_text())
    return pids


def _alive(pid: int) -> bool:
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _show(result: subprocess.CompletedProcess[str]) -> str:
    return f"rc={result.returncode}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"


def test_demo_start_twice_then_stop(tmp_path: pathlib.Path) -> None:
    state_dir = tmp_path / "demo-state"
    first_pids: dict[str, int] = {}
    second_pids: dict[str, int] = {}
    try:
        first = _demo("start", state_dir)
        assert first.returncode == 0, _show(first)
        out = first.stdout
        for relative in ("good/batch-cronjob.yaml", "good/web-deployment.yaml"):
            assert f"=== ADMITTED: manifests/examples/{relative}" in out
        for relative in ("bad/hostpath-cronjob.yaml", "bad/leaky-deployment.yaml",
                         "bad/privileged-pod.yaml"):  # fmt: skip
            assert f"=== DENIED: manifests/examples/{relative}" in out
        assert 'admission webhook "validate.bulkhead.dev" denied the request' in out
        assert "[privileged] spec.containers[0].securityContext.privileged:" in out
        assert (
            'DENIED    manifests/examples/bad/privileged-pod.yaml    Pod "demo/node-debugger"'
            in out
        )
        assert "UNEXPECTED" not in out
        assert f"export KUBECONFIG={state_dir / 'kubeconfig'}" in out
        assert "make demo-stop" in out

        first_pids = _pids(state_dir)
        assert all(_alive(pid) for pid in first_pids.values()), first_pids
        kubectl = json.loads((state_dir / demo.READY).read_text())["kubectl"]
        stored = subprocess.run(
            [kubectl, f"--kubeconfig={state_dir / 'kubeconfig'}", "get",
             "deployments,cronjobs,pods", "-o", "name"],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout.split()  # fmt: skip
        assert sorted(stored) == ["cronjob.batch/report", "deployment.apps/web"]

        assert _demo("status", state_dir).returncode == 0

        second = _demo("start", state_dir)
        assert second.returncode == 0, _show(second)
        assert "stopped the demo that was already running" in second.stdout
        assert not any(_alive(pid) for pid in first_pids.values()), first_pids
        second_pids.update(_pids(state_dir))
        assert all(_alive(pid) for pid in second_pids.values()), second_pids
    finally:
        stop = _demo("stop", state_dir)
    assert stop.returncode == 0, _show(stop)
    assert "Stopped the Bulkhead demo" in stop.stdout
    assert not any(_alive(pid) for pid in (*first_pids.values(), *second_pids.values()))
    assert not state_dir.exists()
    assert _demo("status", state_dir).returncode == 1
