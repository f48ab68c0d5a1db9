"""``make demo`` end to end, as a user sees it: start, use, break, start again, stop.

Owns: running ``python -m devcluster.demo start|status|stop`` (what the
Makefile's ``demo`` and ``demo-stop`` targets run) against a private state
directory, so a developer's own demo is never touched. Proves, from the
output a user reads and the commands the README gives:

* the CRDs are installed and the example policies are objects the operator
  marks READY (``kubectl get ccp``);
* the examples are judged as their directories say;
* stopping the webhook refuses requests (``failurePolicy: Fail``) and the
  supervisor brings it back, both in the demo's own run and when a user runs
  the documented ``kill $(cat .../webhook.pid)``; the operator is restarted too;
* a policy applied with kubectl is enforced within 2 seconds;
* ``. STATE/env`` gives a shell ``kubectl`` and ``bulkhead``, and the pid
  files the output names exist;
* a second start replaces the first without stray processes; stop ends every
  process and removes the state;
* while a phase is slow (a cold build) the wait names the phase, the time
  spent and the log, with the log's last line.

Starts its own control plane, in bounded time.
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
import threading
import time

import pytest

from devcluster import controlplane, demo

#: Generous enough for a first build of kube-apiserver (about 4 minutes here).
START_TIMEOUT = 900.0
POLICIES = ("baseline", "hardening", "restricted-preview", "supply-chain")


def _demo(command: str, state_dir: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", demo.MODULE, command, "--state-dir", str(state_dir),
         "--timeout", str(START_TIMEOUT)],
        cwd=controlplane.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT + 300,
        check=False,
    )  # fmt: skip


def _in_shell(state_dir: pathlib.Path, script: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh bash after ``. STATE/env``, as the demo tells a user to."""
    return subprocess.run(
        ["bash", "-c", f". {state_dir / demo.ENV_FILE} && {script}"],
        cwd=controlplane.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"HOME": str(state_dir), "PATH": "/usr/bin:/bin"},
    )


def _pids(state_dir: pathlib.Path) -> dict[str, int]:
    ready = json.loads((state_dir / demo.READY).read_text())
    pids: dict[str, int] = dict(ready["pids"])
    pids["supervisor"] = int((state_dir / demo.SUPERVISOR_PID).read_text())
    return pids


def _show(result: subprocess.CompletedProcess[str]) -> str:
    return f"rc={result.returncode}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"


def _section(out: str, title: str) -> str:
    """The lines of the demo's output from ``=== title`` to the next ``===``."""
    start = out.index(f"=== {title}")
    end = out.find("\n=== ", start + 1)
    return out[start : end if end != -1 else len(out)]


def _ready_column(table: str) -> dict[str, str]:
    """``kubectl get ccp``'s table: policy name -> READY column."""
    lines = [line for line in table.splitlines() if line.strip()]
    header_at = next(i for i, line in enumerate(lines) if line.startswith("NAME"))
    column = lines[header_at].index("READY")  # columns are aligned; PROFILE may be empty
    return {line.split()[0]: line[column:].split()[0] for line in lines[header_at + 1 :]}


def _check_first_start(out: str, state_dir: pathlib.Path) -> None:
    # Progress: each phase with its elapsed time, the slow one with its log.
    assert re.search(
        r"\[\d+\.\ds\] building or reusing kube-apiserver and etcd, then starting them "
        rf"\(log: {re.escape(str(state_dir / 'logs' / 'build.log'))}\)",
        out,
    ), out
    assert "] starting bulkhead operator" in out

    # The policies are objects, and the operator marks each READY.
    policies = _section(out, "The example policies are objects")
    assert _ready_column(policies) == dict.fromkeys(POLICIES, "True"), policies

    for relative in ("good/batch-cronjob.yaml", "good/web-deployment.yaml"):
        assert f"=== ADMITTED: manifests/examples/{relative}" in out
    for relative in ("bad/hostpath-cronjob.yaml", "bad/leaky-deployment.yaml",
                     "bad/privileged-pod.yaml"):  # fmt: skip
        assert f"=== DENIED: manifests/examples/{relative}" in out
    assert 'admission webhook "validate.bulkhead.dev" denied the request' in out
    assert "[privileged] spec.containers[0].securityContext.privileged:" in out
    assert 'DENIED    manifests/examples/bad/privileged-pod.yaml    Pod "demo/node-debugger"' in out

    closed = _section(out, "Fail-closed")
    assert f"$ kill $(cat {state_dir / 'webhook.pid'})" in closed
    assert 'failed calling webhook "validate.bulkhead.dev"' in closed, closed
    assert "job.batch/report-now created (server dry run)" in closed, closed

    enforced = _section(out, "A policy applied with kubectl")
    assert "containerpolicy.bulkhead.dev/no-token-automount created" in enforced
    assert "[automountServiceAccountToken]" in enforced, enforced
    seconds = re.search(r"refused (\d+\.\d)s after kubectl apply returned", enforced)
    assert seconds is not None, enforced
    assert float(seconds.group(1)) < 2.0, enforced
    assert _ready_column(enforced) == {"no-token-automount": "True"}, enforced

    assert "UNEXPECTED" not in out
    assert f". {state_dir / 'env'}" in out
    assert "make demo-stop" in out


def _check_user_commands(state_dir: pathlib.Path) -> None:
    """What the README and the demo's output tell a user to run, run that way."""
    for name in ("supervisor", "etcd", "kube-apiserver", "operator", "webhook"):
        assert (state_dir / f"{name}.pid").is_file(), name
    used = _in_shell(state_dir, "kubectl get ccp,cp -o name && bulkhead version")
    assert used.returncode == 0, _show(used)
    *names, version = used.stdout.splitlines()
    assert version.startswith("bulkhead "), used.stdout
    assert sorted(names) == sorted(
        [f"clustercontainerpolicy.bulkhead.dev/{name}" for name in POLICIES]
        + ["containerpolicy.bulkhead.dev/no-token-automount"]
    ), used.stdout
    stored = _in_shell(state_dir, "kubectl get deployments,cronjobs,pods -o name")
    assert sorted(stored.stdout.split()) == ["cronjob.batch/report", "deployment.apps/web"]

    # The documented way to see fail-closed; the supervisor restarts the webhook.
    before = int((state_dir / "webhook.pid").read_text())
    killed = _in_shell(state_dir, f"kill $(cat {state_dir / 'webhook.pid'})")
    assert killed.returncode == 0, _show(killed)
    deadline = time.monotonic() + 30
    while demo._alive(before) and time.monotonic() < deadline:
        time.sleep(0.1)
    probe = "kubectl create deployment probe --image=ghcr.io/acme/x:1 --dry-run=server"
    refused = _in_shell(state_dir, probe)
    assert refused.returncode != 0, _show(refused)
    assert 'failed calling webhook "validate.bulkhead.dev"' in refused.stderr, _show(refused)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        judged = _in_shell(state_dir, probe)
        after = int((state_dir / "webhook.pid").read_text())
        if after != before and "denied the request" in judged.stderr:
            break
        time.sleep(0.5)
    assert "denied the request" in judged.stderr, _show(judged)
    assert after != before
    assert demo._alive(after)

    # The operator is looked after the same way.
    operator = int((state_dir / "operator.pid").read_text())
    assert _in_shell(state_dir, f"kill {operator}").returncode == 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        restarted = int((state_dir / "operator.pid").read_text())
        if restarted != operator and demo._alive(restarted):
            break
        time.sleep(0.5)
    assert restarted != operator
    assert _demo("status", state_dir).returncode == 0


@pytest.mark.cluster
def test_demo_is_the_whole_system(tmp_path: pathlib.Path) -> None:
    state_dir = tmp_path / "demo-state"
    first_pids: dict[str, int] = {}
    second_pids: dict[str, int] = {}
    try:
        first = _demo("start", state_dir)
        assert first.returncode == 0, _show(first)
        _check_first_start(first.stdout, state_dir)
        _check_user_commands(state_dir)
        first_pids = _pids(state_dir)
        assert all(demo._alive(pid) for pid in first_pids.values()), first_pids

        second = _demo("start", state_dir)
        assert second.returncode == 0, _show(second)
        assert "stopped the demo that was already running" in second.stdout
        assert not any(demo._alive(pid) for pid in first_pids.values()), first_pids
        second_pids.update(_pids(state_dir))
        assert all(demo._alive(pid) for pid in second_pids.values()), second_pids
    finally:
        stop = _demo("stop", state_dir)
    assert stop.returncode == 0, _show(stop)
    assert "Stopped the Bulkhead demo" in stop.stdout
    assert not any(demo._alive(pid) for pid in (*first_pids.values(), *second_pids.values()))
    assert not state_dir.exists()
    assert _demo("status", state_dir).returncode == 1


def test_a_slow_phase_shows_its_time_and_its_log(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    build_log = state_dir / "build.log"
    build_log.write_text("build.sh: go mod download\nbuild.sh: go build ./cmd/kube-apiserver\n")
    (state_dir / demo.SUPERVISOR_LOG).write_text(
        f"phase: building or reusing kube-apiserver and etcd (log: {build_log})\n"
    )
    ready = demo.Ready(
        kubeconfig="k", kubectl="kubectl", kubetools_dir="t", apiserver="https://127.0.0.1:1",
        webhook="w", namespace="demo", policies="p", pids={}, commands={}, temp_dirs=[],
    )  # fmt: skip
    supervisor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    later = threading.Timer(1.5, ready.write, args=(state_dir,))
    later.start()
    try:
        assert demo._wait_ready(state_dir, supervisor, timeout=30, progress_every=0.4) == ready
    finally:
        later.cancel()
        supervisor.kill()
        supervisor.wait()
    out = capsys.readouterr().out
    assert f"] building or reusing kube-apiserver and etcd (log: {build_log})" in out
    assert re.search(
        r"\] still at it \(\d+\.\ds in this phase\); "
        rf"{re.escape(str(build_log))}: build\.sh: go build \./cmd/kube-apiserver",
        out,
    ), out
    assert re.search(r"\[\d+\.\ds\] ready", out), out
